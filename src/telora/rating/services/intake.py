"""Intake: record a usage file once, parse it, stage its records packed in batches per
subscription partition (services.staging), and enqueue the batches as jobs.

A partition is `crc32(a_number) % PARTITIONS`: every record of a number lands in the same
partition, and the job of a partition holds the Procrastinate lock `rating:<brand>:<partition>`,
so one worker at a time rates it and balances and bundles stay in order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import time
import uuid
import zlib
from collections.abc import Iterable
from pathlib import Path

from django.db import transaction
from django.db.models import Q

from telora.core import rights
from telora.core.models import Brand
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.core.services.audit import record_event
from telora.rating import formats
from telora.rating.engine import OUT_OF_RANGE, ParseFailure, UsageRecord
from telora.rating.engine.memory import collector_paused
from telora.rating.models import FailedRecord, RatingBatch, UsageFile
from telora.rating.services.limits import max_failed, usage_bounds
from telora.rating.services.staging import dump, dump_lines, row, write_payload

PARTITIONS = 16
BATCH_RECORDS = 100_000  # a partition's records of one file are rated in batches of at most this many


def partition_of(number: str) -> int:
    """The subscription partition of an A-number: stable across processes (not Python's hash)."""
    return zlib.crc32(number.encode()) % PARTITIONS


def _brand(brand) -> Brand:
    if isinstance(brand, Brand):
        return brand
    found = Brand.objects.filter(Q(code=brand) | Q(code__iexact=str(brand))).first()
    if found is None:
        raise ServiceError(f"brand: no brand {brand!r}", field="brand")
    return found


def require(actor: Actor, brand: Brand, perm: str = "rating.change") -> None:
    """People and API keys need `perm` in the brand; platform jobs (no principal) may always."""
    if actor.principal is None and actor.job:
        return
    if actor.principal is None or not rights.has_perm(actor.principal, brand, perm):
        raise PermissionDeniedError(f"You lack {perm} in {brand.code}.")


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _nul_line(data: bytes | Path) -> int | None:
    """The line of the first NUL byte in a text file, or None (PostgreSQL text cannot hold NUL)."""
    if isinstance(data, bytes):
        at = data.find(b"\x00")
        return None if at < 0 else data.count(b"\n", 0, at) + 1
    lines = 1
    with data.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            at = chunk.find(b"\x00")
            if at >= 0:
                return lines + chunk.count(b"\n", 0, at)
            lines += chunk.count(b"\n")
    return None


def import_usage_file(brand, data: str | Path | bytes, *, format: str, source: str, actor: Actor,
                      at: dt.datetime, name: str | None = None, defer: bool = True, split: bool = True) -> UsageFile:
    """Take in one usage file: refuse it if this source sent the same content before, else stage
    its records per partition and (with `defer`) enqueue one rating job per partition batch.
    Unreadable lines go straight to the failed records (PARSE_ERROR), records outside the usage
    window or bounds too (OUT_OF_RANGE). More failed lines than TELORA_USAGE_MAX_FAILED refuse
    the file whole (status failed, its reason kept; ServiceError code "refused").
    `split=False` reads a canonical CSV whole here instead of leaving its lines to the workers,
    so that the cap covers every line (uploads)."""
    brand = _brand(brand)
    require(actor, brand)
    fmt = _format(format)
    if not source:
        raise ServiceError("source: is required", field="source")
    if isinstance(data, bytes):
        sha, size = hashlib.sha256(data).hexdigest(), len(data)
        name = name or "upload"
    else:
        path = Path(data)
        if not path.is_file():
            raise ServiceError(f"file: {path} does not exist or is not a file", field="file")
        sha, size = _sha256(path)
        name = name or path.name
    nul = None if fmt.binary else _nul_line(data if isinstance(data, bytes) else path)
    if nul is not None:
        raise ServiceError(f"file: line {nul} holds a NUL character; a {format} file is text", field="file")
    _refuse_twice(brand, source, sha, name)
    opened = (lambda: io.BytesIO(data)) if isinstance(data, bytes) else (lambda: path.open("rb"))
    return _read(brand, opened, fmt, split=split, source=source, name=name, sha=sha, size=size, actor=actor,
                 at=at, defer=defer)


def _format(format: str):
    try:
        return formats.get(format)
    except KeyError as exc:
        raise ServiceError(f"format: {exc.args[0]}", field="format") from None


def _refuse_twice(brand: Brand, source: str, sha: str, name: str) -> None:
    before = UsageFile.objects.filter(brand=brand, source=source, sha256=sha).values_list("status", "error").first()
    if before is None:
        return
    if before[0] == "failed":
        raise ServiceError(f"file: {name} was refused before from {source} (same content): {before[1]}",
                           field="file", code="duplicate")
    raise ServiceError(f"file: {name} was already imported from {source} (same content)", field="file",
                       code="duplicate")


def _read(brand: Brand, opened, fmt, *, split: bool, usage_file: UsageFile | None = None, **take) -> UsageFile:
    """Cut (a canonical CSV, for the workers to read) or parse the file, and take it in."""
    options = {"timezone": brand.timezone} if "timezone" in fmt.options else {}
    if "country_code" in fmt.options:
        options["country_code"] = _country_code(brand)
    if fmt.splits and split:
        with opened() as stream:
            cut = fmt.splitter(stream)
            if cut is not None:
                return _take_in(brand, cut, format=fmt.name, usage_file=usage_file, **take)
    with opened() as stream:
        text = stream if fmt.binary else io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
        return _take_in(brand, formats.parse(fmt.name, text, **options), format=fmt.name, usage_file=usage_file,
                        **take)


def receive_usage_file(brand, upload, *, format: str, source: str, actor: Actor, at: dt.datetime,
                       name: str | None = None):
    """Keep an upload too large to read in the request (storage `usage/<brand>/...`), record its
    file as received, and start the job that takes it in (kind `usage_intake`, rating.change).
    The same content again from the source is refused here, before the job. Returns (file, job)."""
    from django.core.files.storage import default_storage

    from telora.core.services.jobs import start_job

    brand = _brand(brand)
    require(actor, brand)
    _format(format)
    if not source:
        raise ServiceError("source: is required", field="source")
    name = Path(name or getattr(upload, "name", "") or "upload").name
    digest, size = hashlib.sha256(), 0
    for chunk in upload.chunks():
        digest.update(chunk)
        size += len(chunk)
    sha = digest.hexdigest()
    _refuse_twice(brand, source, sha, name)
    upload.seek(0)
    stored = default_storage.save(f"usage/{brand.code}/{at:%Y%m%d-%H%M%S}-{name}", upload)
    with transaction.atomic():
        usage_file = UsageFile.objects.create(brand=brand, source=source, name=name[:300], sha256=sha, format=format,
                                              size=size, created_at=at, stored=stored)
        record_event(actor=actor, at=at, action="receive", obj=usage_file, brand=brand,
                     new={"name": usage_file.name, "source": source, "format": format, "size": size})
        job = start_job("usage_intake", actor=actor, at=at, brand=brand, title=f"Take in {name}",
                        params={"usage_file_id": usage_file.pk})
    return usage_file, job


def take_in_received(usage_file: UsageFile, *, actor: Actor, at: dt.datetime, defer: bool = True) -> UsageFile:
    """Read a file kept by `receive_usage_file` and take it in (the `usage_intake` job). A file
    already taken in (the job run twice) is left as it is."""
    from django.core.files.storage import default_storage

    if usage_file.status != "received" or not usage_file.stored:
        return usage_file
    brand = usage_file.brand
    fmt = _format(usage_file.format)
    take = {"source": usage_file.source, "name": usage_file.name, "sha": usage_file.sha256, "size": usage_file.size,
            "actor": actor, "at": at, "defer": defer}
    return _read(brand, lambda: default_storage.open(usage_file.stored, "rb"), fmt, split=False,
                 usage_file=usage_file, **take)


def import_usage_records(brand, records: Iterable[UsageRecord], *, source: str, actor: Actor, at: dt.datetime,
                         name: str = "records", defer: bool = True, action: str = "import") -> UsageFile:
    """Take in records that are already normalised (a JSON batch from the API, records to rate
    again): staged and rated like a file's. Such a batch has no file identity, so the same batch
    twice is not refused as a whole; each record id of the source is still charged once."""
    brand = _brand(brand)
    require(actor, brand)
    if not source:
        raise ServiceError("source: is required", field="source")
    sha = hashlib.sha256(f"{name}:{uuid.uuid4()}".encode()).hexdigest()
    return _take_in(brand, records, source=source, name=name, sha=sha, format="records", size=0, actor=actor,
                    at=at, defer=defer, action=action)


class _Refused(Exception):
    """More failed lines than a file may make: everything of the file is rolled back."""

    def __init__(self, reason: str, read: int):
        super().__init__(reason)
        self.reason, self.read = reason, read


def _take_in(brand: Brand, outcomes, *, source: str, name: str, sha: str, format: str, size: int, actor: Actor,
             at: dt.datetime, defer: bool, action: str = "import", usage_file: UsageFile | None = None) -> UsageFile:
    """Record the file (or fill in the received one), stage its records in batches per partition,
    and (with `defer`) enqueue a rating job per batch once the transaction commits."""
    started = time.perf_counter()
    try:
        with transaction.atomic():
            if usage_file is None:
                usage_file = UsageFile.objects.create(brand=brand, source=source, name=name[:300], sha256=sha,
                                                      format=format, size=size, created_at=at)
            with collector_paused():
                if isinstance(outcomes, formats.Split):
                    batches, failures, ignored = _stage_lines(outcomes, usage_file, at, format), [], 0
                else:
                    batches, failures, ignored = _stage(outcomes, usage_file, at, usage_bounds(brand.pk, source, at))
            FailedRecord.objects.bulk_create(
                (FailedRecord.unreadable(f, brand_id=brand.pk, file_id=usage_file.pk, source=source, at=at)
                 if isinstance(f, ParseFailure) else
                 FailedRecord.of_record(f[0], OUT_OF_RANGE, f[1], brand_id=brand.pk, file_id=usage_file.pk,
                                        source=source, at=at)
                 for f in failures), batch_size=5000)
            usage_file.read = sum(b.records for b in batches) + len(failures) + ignored
            usage_file.failed = len(failures)
            usage_file.ignored = ignored
            usage_file.status = "staged" if batches else "rated"
            usage_file.staged_at = at
            usage_file.rated_at = None if batches else at
            usage_file.parse_seconds = time.perf_counter() - started
            usage_file.save()
            record_event(actor=actor, at=at, action=action, obj=usage_file, brand=brand,
                         new={"name": usage_file.name, "source": source, "format": format, "read": usage_file.read})
            if defer:
                ids = [(b.pk, b.partition) for b in batches]
                transaction.on_commit(lambda: enqueue(brand.pk, ids))
    except _Refused as refused:
        _refuse(brand, usage_file, refused, source=source, name=name, sha=sha, format=format, size=size,
                actor=actor, at=at)
    return usage_file


def _refuse(brand: Brand, usage_file: UsageFile | None, refused: _Refused, *, source: str, name: str, sha: str,
            format: str, size: int, actor: Actor, at: dt.datetime) -> None:
    """Keep the refused file's row (status failed, the reason) without a batch, failed record or
    job, audit it, and say so to the caller (ServiceError code "refused")."""
    with transaction.atomic():
        if usage_file is None or usage_file.pk is None or not UsageFile.objects.filter(pk=usage_file.pk).exists():
            usage_file = UsageFile(brand=brand, source=source, name=name[:300], sha256=sha, format=format, size=size,
                                   created_at=at)
        usage_file.status, usage_file.error, usage_file.read = "failed", refused.reason[:1000], refused.read
        usage_file.failed = usage_file.rated = usage_file.ignored = 0
        usage_file.save()
        record_event(actor=actor, at=at, action="refuse", obj=usage_file, brand=brand,
                     new={"name": usage_file.name, "source": source, "reason": usage_file.error})
    raise ServiceError(f"file: {name} was refused: {refused.reason}", field="file", code="refused")


def _country_code(brand: Brand) -> str:
    try:
        import phonenumbers

        return str(phonenumbers.country_code_for_region(brand.country))
    except ImportError:  # pragma: no cover - phonenumbers is a dependency of inventory
        return ""


CHECK_EVERY = 10_000  # records gathered before their bounds are checked (in C, engine.bounds)


def _stage(outcomes, usage_file: UsageFile, at: dt.datetime, bounds) -> tuple[list[RatingBatch], list, int]:
    """Sort the records into their partitions, packed; a partition's batch is written when it holds
    BATCH_RECORDS records, and the rest at the end. Batches of a partition get rising ids.
    Failures are ParseFailures and (record, detail) of records outside `bounds`; past
    TELORA_USAGE_MAX_FAILED of them the file is refused (`_Refused`) and reading stops."""
    buffers: list[list[tuple]] = [[] for _ in range(PARTITIONS)]
    batches: list[RatingBatch] = []
    failures: list = []
    pending: list[UsageRecord] = []
    ignored = 0
    read = 0
    most = max_failed()
    crc32 = zlib.crc32

    def write(partition: int) -> None:
        rows = buffers[partition]
        batch = RatingBatch.objects.create(brand_id=usage_file.brand_id, file=usage_file, partition=partition,
                                           records=len(rows), created_at=at)
        write_payload(batch.pk, dump(rows))
        batches.append(batch)
        buffers[partition] = []

    def route() -> None:
        inside, outside = bounds.split(pending)
        failures.extend(outside)
        for record in inside:
            p = crc32(record.a_number.encode()) % PARTITIONS
            buffer = buffers[p]
            buffer.append(row(record))
            if len(buffer) >= BATCH_RECORDS:
                write(p)
        pending.clear()

    for item in outcomes:
        read += 1
        if type(item) is UsageRecord:
            pending.append(item)
            if len(pending) < CHECK_EVERY:
                continue
            route()
        elif isinstance(item, ParseFailure):
            failures.append(item)
        else:
            ignored += 1
            continue
        if len(failures) > most:
            raise _Refused(_too_many(failures, most), read)
    route()
    if len(failures) > most:
        raise _Refused(_too_many(failures, most), read)
    for p in range(PARTITIONS):
        if buffers[p]:
            write(p)
    return batches, failures, ignored


def _too_many(failures: list, most: int) -> str:
    first = failures[0]
    said = (f"line {first.line}: {first.reason}" if isinstance(first, ParseFailure) else first[1])
    return (f"more than {most} lines could not be read or were out of range (TELORA_USAGE_MAX_FAILED); "
            f"nothing of the file was taken in. First: {said}")[:1000]


def _stage_lines(cut: formats.Split, usage_file: UsageFile, at: dt.datetime, format: str) -> list[RatingBatch]:
    """Route a split file's raw records to their partitions by the A-number alone; the workers
    read them (a line they cannot read goes to the failed records from there)."""
    batches: list[RatingBatch] = []

    def write(partition: int, raws: list[bytes], lines: list[int]) -> None:
        batch = RatingBatch.objects.create(brand_id=usage_file.brand_id, file=usage_file, partition=partition,
                                           records=len(lines), created_at=at)
        write_payload(batch.pk, dump_lines(format, cut.names, raws, lines))
        batches.append(batch)

    cut.route(PARTITIONS, BATCH_RECORDS, write)
    return batches


def enqueue(brand_id: int, batches: list[tuple[int, int]]) -> None:
    """One job per batch; the lock serialises the jobs of a partition (in the order deferred)."""
    from telora.rating.jobs import rate_batch_task

    for batch_id, partition in batches:
        rate_batch_task.configure(lock=f"rating:{brand_id}:{partition}").defer(batch_id=batch_id)
