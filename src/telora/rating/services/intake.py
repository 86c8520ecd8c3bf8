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
from telora.rating.engine import ParseFailure, UsageRecord
from telora.rating.engine.memory import collector_paused
from telora.rating.models import FailedRecord, RatingBatch, UsageFile
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
                      at: dt.datetime, name: str | None = None, defer: bool = True) -> UsageFile:
    """Take in one usage file: refuse it if this source sent the same content before, else stage
    its records per partition and (with `defer`) enqueue one rating job per partition batch.
    Unreadable lines go straight to the failed records (PARSE_ERROR)."""
    brand = _brand(brand)
    require(actor, brand)
    try:
        fmt = formats.get(format)
    except KeyError as exc:
        raise ServiceError(f"format: {exc.args[0]}", field="format") from None
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
    if UsageFile.objects.filter(brand=brand, source=source, sha256=sha).exists():
        raise ServiceError(f"file: {name} was already imported from {source} (same content)", field="file",
                           code="duplicate")
    options = {"timezone": brand.timezone} if "timezone" in fmt.options else {}
    if "country_code" in fmt.options:
        options["country_code"] = _country_code(brand)
    if fmt.splits:
        with (io.BytesIO(data) if isinstance(data, bytes) else path.open("rb")) as stream:
            cut = fmt.splitter(stream)
            if cut is not None:
                return _take_in(brand, cut, source=source, name=name, sha=sha, format=format, size=size,
                                actor=actor, at=at, defer=defer)
    outcomes = (formats.parse_bytes(format, data, **options) if isinstance(data, bytes)
                else formats.parse_path(format, data, **options))
    return _take_in(brand, outcomes, source=source, name=name, sha=sha, format=format, size=size, actor=actor,
                    at=at, defer=defer)


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


def _take_in(brand: Brand, outcomes, *, source: str, name: str, sha: str, format: str, size: int, actor: Actor,
             at: dt.datetime, defer: bool, action: str = "import") -> UsageFile:
    """Record the file, stage its records in batches per partition, and (with `defer`) enqueue a
    rating job per batch once the transaction commits."""
    started = time.perf_counter()
    with transaction.atomic():
        usage_file = UsageFile.objects.create(brand=brand, source=source, name=name[:300], sha256=sha,
                                              format=format, size=size, created_at=at)
        with collector_paused():
            if isinstance(outcomes, formats.Split):
                batches, failures, ignored = _stage_lines(outcomes, usage_file, at, format), [], 0
            else:
                batches, failures, ignored = _stage(outcomes, usage_file, at)
        FailedRecord.objects.bulk_create(
            (FailedRecord.unreadable(f, brand_id=brand.pk, file_id=usage_file.pk, source=source, at=at)
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
    return usage_file


def _country_code(brand: Brand) -> str:
    try:
        import phonenumbers

        return str(phonenumbers.country_code_for_region(brand.country))
    except ImportError:  # pragma: no cover - phonenumbers is a dependency of inventory
        return ""


def _stage(outcomes, usage_file: UsageFile, at: dt.datetime) -> tuple[list[RatingBatch], list[ParseFailure], int]:
    """Sort the records into their partitions, packed; a partition's batch is written when it holds
    BATCH_RECORDS records, and the rest at the end. Batches of a partition get rising ids."""
    buffers: list[list[tuple]] = [[] for _ in range(PARTITIONS)]
    batches: list[RatingBatch] = []
    failures: list[ParseFailure] = []
    ignored = 0
    crc32 = zlib.crc32

    def write(partition: int) -> None:
        rows = buffers[partition]
        batch = RatingBatch.objects.create(brand_id=usage_file.brand_id, file=usage_file, partition=partition,
                                           records=len(rows), created_at=at)
        write_payload(batch.pk, dump(rows))
        batches.append(batch)
        buffers[partition] = []

    for item in outcomes:
        if type(item) is UsageRecord:
            p = crc32(item.a_number.encode()) % PARTITIONS
            buffer = buffers[p]
            buffer.append(row(item))
            if len(buffer) >= BATCH_RECORDS:
                write(p)
        elif isinstance(item, ParseFailure):
            failures.append(item)
        else:
            ignored += 1
    for p in range(PARTITIONS):
        if buffers[p]:
            write(p)
    return batches, failures, ignored


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
