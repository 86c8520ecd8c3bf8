"""Running an import: files in entity order, every row checked first, then each file written in
its own transaction (or in chunks, each committed with its checkpoint), idempotent by source id.

A dry run checks every file and writes nothing; rows that would be imported count as imported
for the files after them. A real run refuses a file with any bad row whole and stops there
(later files refer to its rows).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import queue
import threading
from dataclasses import dataclass, field

import psycopg
from django.db import DatabaseError, connection, transaction

from telora.core.bulk import copy_objects, copy_pipeline, gc_paused, new_object
from telora.core.bulk_keys import keys_checked_at_end
from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.customers.services.common import require
from telora.migration.models import FileCheckpoint, SourceMapping
from telora.migration.services.base import (
    ANY_TEXT,
    MAX_ERRORS,
    ORDER,
    Bad,
    Context,
    RowError,
    Skip,
    Source,
    read,
    text,
    texts,
)
from telora.migration.services.kinds import Kind
from telora.migration.services.lines import ProductKind, SubscriptionKind
from telora.migration.services.money import BalanceKind, ReceivableKind, UsageKind
from telora.migration.services.parties import AccountKind, AddressKind, ContactKind, CustomerKind

KINDS: dict[str, Kind] = {k.entity: k for k in (
    CustomerKind(), AddressKind(), ContactKind(), AccountKind(), SubscriptionKind(), ProductKind(), BalanceKind(),
    UsageKind(), ReceivableKind())}
SOURCE_SYSTEM_MAX = 40
SLICE_ROWS = 1000  # rows a whole-file import checks before handing them to be written


@dataclass
class FileReport:
    name: str
    entity: str
    rows: int = 0
    imported: int = 0
    already: int = 0
    bad: int = 0
    skipped: int = 0  # dry run: rows referring to a refused row, not checked further
    status: str = "pending"  # checked, imported, already imported, refused, failed, not run
    resumed_after: int | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Report:
    dry_run: bool
    files: list[FileReport] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    errors_not_listed: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.errors_not_listed and all(
            f.status not in ("refused", "failed", "not run") for f in self.files)

    def add(self, error: RowError) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)
        else:
            self.errors_not_listed += 1

    def summary(self) -> str:
        counts = {"imported": sum(f.imported for f in self.files), "already": sum(f.already for f in self.files),
                  "bad": len(self.errors) + self.errors_not_listed}
        verb = "would import" if self.dry_run else "imported"
        text_ = (f"{verb} {counts['imported']} rows, {counts['already']} already imported, "
                 f"{counts['bad']} bad rows in {len(self.files)} files")
        return ("dry run: " if self.dry_run else "") + text_

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "ok": self.ok, "summary": self.summary(),
                "files": [f.as_dict() for f in self.files], "errors": [e.as_dict() for e in self.errors],
                "errors_not_listed": self.errors_not_listed}


def check_source_system(value: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > SOURCE_SYSTEM_MAX or not value.replace("-", "").replace("_", "").isalnum():
        raise ServiceError(f"source: {value!r} is not a source system name (letters, digits, - and _, "
                           f"at most {SOURCE_SYSTEM_MAX})", field="source")
    return value


def run_import(brand: Brand, files: list[tuple[str, bytes]], *, actor: Actor, at: dt.datetime,
               source_system: str = "legacy", dry_run: bool = False, chunk_rows: int | None = None,
               progress=None, run=None) -> Report:
    """Import (or with `dry_run` only check) `files` of (name, content) into `brand`.

    Needs migration.import in the brand (a job acting for no one may run it). `chunk_rows`
    commits large files in chunks of that many rows, each with its checkpoint; without it a file
    is all or nothing. `progress` has set_total(n) and advance(n) (a JobContext, a progress bar).
    """
    require(actor, brand, "migration.import")
    source_system = check_source_system(source_system)
    if chunk_rows is not None and chunk_rows < 1:
        raise ServiceError("chunk_rows: must be 1 or more", field="chunk_rows")
    key = f"telora.migration:{brand.pk}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key])
        if not cursor.fetchone()[0]:
            raise ServiceError(f"brand: another migration import into {brand.code} is running; wait for it to end",
                               field="brand", code="conflict")
    try:
        with gc_paused():
            return _run(brand, files, actor=actor, at=at, source_system=source_system, dry_run=dry_run,
                        chunk_rows=chunk_rows, progress=progress, run=run)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])


def _run(brand, files, *, actor, at, source_system, dry_run, chunk_rows, progress, run) -> Report:
    """One import at a time per brand (run_import holds the brand's advisory lock)."""
    sources: list[Source] = []
    for name, data in files:
        sources += read(name, data)
    sources.sort(key=lambda s: ORDER.index(s.entity) if s.entity in ORDER else -1)
    if progress is not None:
        progress.set_total(sum(len(s.rows) for s in sources))
    ctx = Context(brand, actor=actor, at=at, source_system=source_system, dry_run=dry_run, run=run)
    report = Report(dry_run=dry_run)
    stopped = False
    for source in sources:
        file_report = FileReport(name=source.name, entity=source.entity, rows=len(source.rows))
        report.files.append(file_report)
        if stopped:
            file_report.status = "not run"
        else:
            _import_file(ctx, source, file_report, report, chunk_rows)
            stopped = not dry_run and file_report.status in ("refused", "failed")
        if progress is not None:
            progress.advance(len(source.rows))
    return report


def _header_errors(source: Source, kind: Kind | None) -> list[RowError]:
    if kind is None:
        return [RowError(source.name, line, "entity", f"{row.get('__entity__')!r} is not one of {', '.join(ORDER)}")
                for line, row in source.rows]
    errors = [RowError(source.name, 1, column, "column is missing")
              for column in kind.required if column not in source.columns]
    known = set(kind.required) | set(kind.optional)
    errors += [RowError(source.name, 1, column, f"unknown column (a {kind.entity} row has "
                                                 f"{', '.join(kind.required + kind.optional)})")
               for column in source.columns if column not in known and not column.startswith("__")]
    return errors


def _mappings(ctx: Context, entity: str, source_ids: set[str]) -> list[tuple[int, str]]:
    """(object id, source id) of those of `source_ids` imported before: one parameter, not an IN
    list of thousands (quicker to build, send and plan)."""
    if not source_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT object_id, source_id FROM migration_sourcemapping WHERE brand_id = %s AND entity = %s "
                       f"AND source_system = %s AND source_id = {ANY_TEXT}",
                       [ctx.brand.pk, entity, ctx.source_system, texts(source_ids)])
        return cursor.fetchall()


def _preload(ctx: Context, kind: Kind, rows: list[tuple[int, dict]]) -> None:
    """Refs of the rows' referenced source ids imported by an earlier run (three queries a column)."""
    for column, entity in kind.refs.items():
        wanted = {(row.get(column) or "").strip() for _line, row in rows} - {""} - set(ctx.refs[entity])
        if not wanted:
            continue
        mapped = dict(_mappings(ctx, entity, wanted))
        loaded = KINDS[entity].load(ctx, list(mapped))
        for object_id, ref in loaded.items():
            ctx.refs[entity][mapped[object_id]] = ref


def _import_file(ctx: Context, source: Source, file_report: FileReport, report: Report, chunk_rows) -> None:
    kind = KINDS.get(source.entity)
    errors = _header_errors(source, kind)
    if errors:
        for error in errors:
            report.add(error)
        file_report.bad = len(errors)
        file_report.status = "refused"
        return
    ids = [text(row, "source_id", 100) for _line, row in source.rows]
    already = {source_id for _object_id, source_id in _mappings(ctx, kind.entity, {i for i in ids if i})}
    fresh, seen = [], {}
    for (line, row), source_id in zip(source.rows, ids, strict=True):
        if "__json__" in row:
            errors.append(RowError(source.name, line, "line", f"is not JSON: {row['__json__']}"))
        elif "__width__" in row:
            errors.append(RowError(source.name, line, "row", f"has {row['__width__']} fields, the header "
                                                              f"{len(source.columns)}"))
        elif not source_id:
            errors.append(RowError(source.name, line, "source_id", "is required"))
        elif source_id in seen:
            errors.append(RowError(source.name, line, "source_id", f"{source_id!r} is on line {seen[source_id]} too"))
        elif source_id in already:
            file_report.already += 1
        else:
            fresh.append((line, row))
        seen.setdefault(source_id, line)
    _preload(ctx, kind, fresh)
    kind.prepare(ctx, fresh)
    if not ctx.dry_run and not chunk_rows and fresh:
        _import_whole(ctx, kind, source, fresh, errors, file_report, report)
        return
    planned = list(_check_rows(ctx, kind, source, fresh, errors, file_report))
    for error in sorted(errors, key=lambda e: e.line):
        report.add(error)
    file_report.bad = len(errors)
    if errors:
        file_report.status = "refused"
        file_report.imported = len(planned) if ctx.dry_run else 0
        return
    if ctx.dry_run:
        file_report.imported = len(planned)
        file_report.status = "checked"
        return
    if not planned:
        file_report.status = "already imported"
        return
    try:
        _write(ctx, kind, source, planned, file_report, chunk_rows)
    except (DatabaseError, psycopg.Error) as exc:  # COPY speaks psycopg directly, unwrapped by Django
        _failed(source, file_report, report, exc)
        return
    file_report.status = "imported"


def _failed(source: Source, file_report: FileReport, report: Report, exc: Exception) -> None:
    report.add(RowError(source.name, file_report.resumed_after or 0, "file",
                        f"the database refused it, nothing of it (after the last checkpoint) was written: "
                        f"{str(exc).strip().splitlines()[0]}"))
    file_report.status = "failed"


def _check_rows(ctx: Context, kind: Kind, source: Source, rows, errors: list[RowError], file_report: FileReport):
    """Check `rows` in file order, yielding (line, source id, object, ref) for each good one; a bad
    row is added to `errors`, and its source id marked refused for the rows that refer to it."""
    for line, row in rows:
        source_id = row["source_id"].strip()
        try:
            obj, ref = kind.check(ctx, row)
        except Bad as exc:
            errors.append(RowError(source.name, line, exc.field, exc.reason))
            ctx.refused[kind.entity].add(source_id)
            continue
        except Skip:
            file_report.skipped += 1
            ctx.refused[kind.entity].add(source_id)
            continue
        ctx.refs[kind.entity][source_id] = ref
        yield line, source_id, obj, ref


class _Refused(Exception):  # noqa: N818  (not an error of the code: rolls back a file with a bad row)
    pass


def _no_queries(execute, sql, params, many, context):
    raise RuntimeError("a migration row check queried the database; load what checks need in Kind.prepare")


def _import_whole(ctx: Context, kind: Kind, source: Source, fresh: list, errors: list[RowError],
                  file_report: FileReport, report: Report) -> None:
    """A real run of a whole file in one transaction, its checks and its writes side by side.

    A thread checks the rows (pure Python: `Kind.prepare` loaded what they need) and hands them
    over in slices of SLICE_ROWS; this thread writes each slice as it comes. Constraints are
    checked at each statement's end, not all at commit, so PostgreSQL's work on a slice (indexes,
    foreign keys, exclusion constraints) runs on another core while Python checks the next one.
    After the first bad row nothing more is written; the checks go on to list every bad row, and
    the transaction rolls back: the file is all or nothing as before.
    """
    slices: queue.Queue = queue.Queue(maxsize=4)
    stop = threading.Event()

    def check() -> None:
        try:
            with connection.execute_wrapper(_no_queries):  # this thread's own (unopened) connection
                batch = []
                for planned in _check_rows(ctx, kind, source, fresh, errors, file_report):
                    if stop.is_set():
                        return
                    batch.append(planned)
                    if len(batch) == SLICE_ROWS:
                        slices.put(batch)
                        batch = []
                slices.put(batch)
        except BaseException as exc:  # handed to the writing thread, which raises it
            slices.put(exc)
        finally:
            connection.close()
            slices.put(None)

    checker = threading.Thread(target=check, name=f"migration-check-{kind.entity}", daemon=True)
    written: list = []
    ended = False
    checkpoint = FileCheckpoint.objects.filter(brand=ctx.brand, source_system=ctx.source_system,
                                               sha256=source.sha256).first()
    if checkpoint is not None and checkpoint.lines_done and not checkpoint.done:
        file_report.resumed_after = checkpoint.lines_done
    checker.start()
    try:
        with transaction.atomic():
            _constraints(immediate=True)
            with _keys_at_end(kind) as keys:
                with copy_pipeline():  # the COPYs of a slice run while the next slice's rows are built
                    while (batch := slices.get()) is not None:
                        if isinstance(batch, BaseException):
                            raise batch
                        if batch and not errors:
                            _write_rows(ctx, kind, batch)
                            written += batch
                    ended = True
                if errors or not written:
                    raise _Refused
                if keys is not None:
                    keys.check()
            _constraints(immediate=False)
            _mark(ctx, kind, source, written, done=True)
    except _Refused:
        file_report.status = "refused"
    except (DatabaseError, psycopg.Error) as exc:
        _failed(source, file_report, report, exc)
    finally:
        stop.set()
        while not ended:  # the checker may wait to hand over a slice: take them until it ends
            ended = slices.get() is None
        checker.join()
    for error in sorted(errors, key=lambda e: e.line):
        report.add(error)
    file_report.bad = len(errors)
    if file_report.status == "pending":
        file_report.imported = len(written)
        file_report.status = "imported"


def _keys_at_end(kind: Kind):
    """The file's (or chunk's) foreign keys checked per table at its end where the kind writes
    only by COPY (core.bulk_keys: the same checks and locks, a statement a key instead of a
    trigger a row), else per row as usual."""
    if not kind.writes:
        return contextlib.nullcontext()
    return keys_checked_at_end((*kind.writes, SourceMapping))


def _constraints(*, immediate: bool) -> None:
    """Foreign keys are checked at commit (deferred) by default; at each statement's end while a
    whole file is written, and back to deferred for the rest of an enclosing transaction."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS ALL {'IMMEDIATE' if immediate else 'DEFERRED'}")


def _write_rows(ctx: Context, kind: Kind, chunk: list) -> None:
    """The chunk's objects and their source mappings."""
    kind.write(ctx, [(obj, ref) for _line, _sid, obj, ref in chunk])
    copy_objects(SourceMapping, [
        new_object(SourceMapping, brand_id=ctx.brand.pk, entity=kind.entity, source_system=ctx.source_system,
                   source_id=sid, object_id=ref.id, run_id=ctx.run.pk if ctx.run else None,
                   billed_through=getattr(ref, "billed_through", None), created_at=ctx.at) for _line, sid, _obj, ref in chunk])


def _mark(ctx: Context, kind: Kind, source: Source, chunk: list, *, done: bool) -> None:
    """The file's checkpoint after `chunk` and one audit event saying which rows it imported."""
    checkpoint, _made = FileCheckpoint.objects.update_or_create(
        brand=ctx.brand, source_system=ctx.source_system, sha256=source.sha256,
        defaults=dict(entity=kind.entity, name=source.name[:255], rows=len(source.rows),
                      lines_done=chunk[-1][0], done=done, updated_at=ctx.at))
    record_event(actor=ctx.actor, at=ctx.at, action="migration_import", obj=checkpoint, brand=ctx.brand,
                 new={"entity": kind.entity, "file": source.name, "rows": len(chunk),
                      "lines": f"{chunk[0][0]}-{chunk[-1][0]}", "source_system": ctx.source_system,
                      "source_ids": [sid for _line, sid, _obj, _ref in chunk]},
                 message=f"{len(chunk)} {kind.entity} rows imported from {source.name}")


def _write(ctx: Context, kind: Kind, source: Source, planned: list, file_report: FileReport, size: int) -> None:
    """Checked rows in chunks of `size`, each committed with its checkpoint (a rerun resumes after it)."""
    checkpoint = FileCheckpoint.objects.filter(brand=ctx.brand, source_system=ctx.source_system,
                                               sha256=source.sha256).first()
    if checkpoint is not None and checkpoint.lines_done and not checkpoint.done:
        file_report.resumed_after = checkpoint.lines_done
    for start in range(0, len(planned), size):
        chunk = planned[start:start + size]
        with transaction.atomic():
            with _keys_at_end(kind) as keys:
                _write_rows(ctx, kind, chunk)
                if keys is not None:
                    keys.check()
            _mark(ctx, kind, source, chunk, done=start + len(chunk) == len(planned))
        file_report.imported += len(chunk)
