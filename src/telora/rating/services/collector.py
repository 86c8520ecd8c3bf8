"""Pull intake: the collector takes complete files from a source's inbox folder, imports them, and
moves each to the archive (taken in) or the error folder (refused, with a reason file).

A scan of one source (`collect_source`):

1. makes the folders when they are missing (inbox, `<inbox>/.processing`, archive, errors);
2. retries what a collector that stopped half-way left in `<inbox>/.processing`: content already
   taken in (a UsageFile of the brand and source with the same sha256) goes to the archive
   without a second intake; anything else is imported now;
3. lists the inbox: regular files matching the source's glob `pattern`, not hidden (".name"),
   not `*.tmp`, `*.part` or `*.filepart`, and settled: their modification time is at least
   `settle_seconds` old by the file system's clock (`time.time()`, not the application clock: the
   writer stamps files with it). Oldest first;
4. claims each file by linking it into `<inbox>/.processing/` (a hard link fails when the name is
   there already, so nothing is ever overwritten) and removing the inbox name (rename where hard
   links are not supported), then holds an exclusive `flock` on it while it is imported: two
   collectors (threads, processes, machines on one file system) never take one file twice;
5. imports it with `import_usage_file` (audited there; its batches go to the rating workers) and
   moves it to `<archive>/<YYYY>/<MM>/<DD>/<name>` (the brand's local day of the scan); a refusal
   (ServiceError: bad format, "duplicate" content) or any other error moves it to `<errors>/<name>`
   next to `<name>.error.txt` giving the reason, and is noted in the source's `last_error`.

A name already taken in the archive or error folder gets a number (`cdrs.1.csv`): no file is
ever lost or overwritten.

An SFTP source (`sftp_host` set) is then pulled when due (`services.pull`): its new remote files
are downloaded and taken in through the same intake, archive and error folders. Managing sources
(create, update, delete) is in `services.sources`.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import fnmatch
import hashlib
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, InterfaceError, OperationalError, transaction

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError
from telora.rating.models import FailedRecord, UsageFile, UsageSource
from telora.rating.services.sources import (  # noqa: F401 - the sources' services, named here too
    SECRET_FIELDS,
    SFTP_FIELDS,
    SOURCE_FIELDS,
    _may_change,
    create_source,
    default_folders,
    delete_source,
    update_source,
)

logger = logging.getLogger(__name__)

PROCESSING = ".processing"
SKIPPED_SUFFIXES = (".tmp", ".part", ".filepart")
ERROR_NOTE = ".error.txt"


@dataclass
class Taken:
    """One file handled by a scan: `outcome` is "archived" or "error"."""

    name: str
    outcome: str
    path: str  # where it is now
    file_id: int | None = None
    read: int = 0
    reason: str = ""
    retried: bool = False  # found in .processing (a collector stopped half-way)

    def line(self, source: UsageSource) -> str:
        where = f"{source.brand.code}/{source.code}"
        again = " (retried)" if self.retried else ""
        if self.outcome == "archived" and self.file_id is None:
            return f"{where}: {self.name}{again} was already taken in -> {self.path}"
        if self.outcome == "archived":
            return f"{where}: {self.name}{again} taken in (file {self.file_id}, read {self.read}) -> {self.path}"
        return f"{where}: {self.name}{again} refused: {self.reason} -> {self.path}"


@dataclass
class CollectReport:
    """What one scan of one source did."""

    source: UsageSource
    taken: list[Taken] = field(default_factory=list)
    waiting: int = 0  # files still settling (or claimed by another collector)
    error: str = ""  # the scan itself failed (a folder cannot be made or read), or the SFTP pull
    stage: str = "scan"  # "pull" when the SFTP pull failed

    @property
    def archived(self) -> int:
        return sum(1 for t in self.taken if t.outcome == "archived")

    @property
    def refused(self) -> int:
        return sum(1 for t in self.taken if t.outcome == "error")


# ---- collecting -------------------------------------------------------------------------------

def is_candidate(name: str, pattern: str) -> bool:
    """A name the collector may take: matches the pattern, not hidden, not a partial upload."""
    if name.startswith(".") or name.lower().endswith(SKIPPED_SUFFIXES):
        return False
    return fnmatch.fnmatchcase(name, pattern or "*")


def free_name(folder: Path, name: str, note: str = "") -> Path:
    """`folder/name`, or `folder/stem.N.suffix` with the first N free (and, with `note`, the name
    plus `note` free too): nothing is overwritten."""
    def free(candidate: str) -> bool:
        return not (folder / candidate).exists() and not (note and (folder / (candidate + note)).exists())

    if free(name):
        return folder / name
    path = Path(name)
    stem, suffix = (path.stem, path.suffix) if path.stem else (name, "")
    n = 1
    while not free(f"{stem}.{n}{suffix}"):
        n += 1
    return folder / f"{stem}.{n}{suffix}"


def _move(path: Path, folder: Path, name: str, note: str = "") -> Path:
    """Move without overwriting: a hard link to a free name, then the old name removed (a copy
    when the folder is on another file system)."""
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        target = free_name(folder, name, note)
        try:
            os.link(path, target)
        except FileExistsError:
            continue  # taken between the look and the link: try the next number
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK):
                raise
            shutil.move(str(path), str(target))
            return target
        os.unlink(path)
        return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _ensure_folders(source: UsageSource) -> tuple[Path, Path, Path, Path]:
    inbox, archive, errors = Path(source.inbox), Path(source.archive), Path(source.errors)
    processing = inbox / PROCESSING
    for folder in (inbox, processing, archive, errors):
        folder.mkdir(parents=True, exist_ok=True)
    return inbox, processing, archive, errors


def _lock(path: Path):
    """An open file holding an exclusive flock on `path`, or None when another collector holds it
    or the file has gone (moved on by the collector that held it)."""
    try:
        fh = path.open("rb")
    except (FileNotFoundError, IsADirectoryError):
        return None
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return None
    try:
        same = os.stat(path).st_ino == os.fstat(fh.fileno()).st_ino
    except FileNotFoundError:
        same = False
    if not same:
        fh.close()
        return None
    return fh


def _claim(inbox: Path, processing: Path, name: str) -> Path | None:
    """Take `name` out of the inbox into .processing; None when another collector took it."""
    source, target = inbox / name, processing / name
    try:
        os.link(source, target)
    except FileExistsError:
        return None  # a file of that name is being processed (or left over): it comes later
    except FileNotFoundError:
        return None  # another collector took it
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EMLINK):
            raise
        if target.exists():
            return None
        try:
            os.rename(source, target)
        except FileNotFoundError:
            return None
        return target
    try:
        os.unlink(source)
    except FileNotFoundError:
        pass
    return target


def _archive_folder(archive: Path, source: UsageSource, at: dt.datetime) -> Path:
    day = clock.localtime(at, source.brand)
    return archive / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"


class UnreadableFile(ServiceError):
    """A file of which not one record could be read: refused whole (nothing of it is kept)."""

    def __init__(self, message: str):
        super().__init__(message, field="file", code="unreadable")


def _import(source: UsageSource, path: Path, name: str, *, actor: Actor, at: dt.datetime) -> UsageFile:
    """import_usage_file, refused whole (rolled back, no job queued) when the file is empty or
    every record in it failed to parse: such a file is the wrong format or broken, not usage."""
    from telora.rating.services import import_usage_file

    if path.stat().st_size == 0:
        raise UnreadableFile("file: the file is empty")
    with transaction.atomic():
        usage_file = import_usage_file(source.brand, path, format=source.format, source=source.code, actor=actor,
                                       at=at, name=name, defer=True)
        if usage_file.read and usage_file.failed == usage_file.read:
            first = FailedRecord.objects.filter(file=usage_file).order_by("line").first()
            detail = f"; line {first.line}: {first.detail}" if first else ""
            raise UnreadableFile(f"file: no record could be read as {source.format} "
                                 f"({usage_file.failed} failed{detail})"[:480])
    return usage_file


def _take(source: UsageSource, path: Path, name: str, archive: Path, errors: Path, *, actor: Actor,
          at: dt.datetime, retried: bool) -> Taken:
    """Import one claimed file and move it on. The caller holds its lock."""
    if retried:
        _finish_claim(Path(source.inbox) / name, path)
        if UsageFile.objects.filter(brand=source.brand, source=source.code, sha256=_sha256(path)).exists():
            moved = _move(path, _archive_folder(archive, source, at), name)
            return Taken(name, "archived", str(moved), retried=True)
    try:
        usage_file = _import(source, path, name, actor=actor, at=at)
    except ServiceError as exc:
        reason = exc.message
    except IntegrityError:  # another collector took in the same content (under another name) just now
        reason = f"file: {name} was already imported from {source.code} (same content, at the same moment)"
    except (OperationalError, InterfaceError):
        raise  # the database is away: the file stays in .processing and is retried by the next scan
    except Exception as exc:  # whatever goes wrong with one file sends that file to the error folder
        logger.exception("collector %s/%s: %s", source.brand.code, source.code, name)
        reason = f"{type(exc).__name__}: {exc}"
    else:
        moved = _move(path, _archive_folder(archive, source, at), name)
        return Taken(name, "archived", str(moved), usage_file.pk, usage_file.read, retried=retried)
    moved = _move(path, errors, name, ERROR_NOTE)
    note = moved.with_name(moved.name + ERROR_NOTE)
    note.write_text(f"file: {name}\nsource: {source.brand.code}/{source.code} ({source.format})\n"
                    f"at: {at.isoformat()}\nreason: {reason}\n", encoding="utf-8")
    return Taken(name, "error", str(moved), reason=reason, retried=retried)


def _finish_claim(inbox_path: Path, claimed: Path) -> None:
    """A collector stopped between linking a file into .processing and removing its inbox name:
    the inbox name (the same file) goes now, so the file is not taken a second time."""
    try:
        if os.path.samefile(inbox_path, claimed):
            os.unlink(inbox_path)
    except FileNotFoundError:
        pass


def _handle(source, path: Path, name: str, archive: Path, errors: Path, *, actor, at, retried: bool,
            report: CollectReport) -> None:
    held = _lock(path)
    if held is None:
        report.waiting += 1
        return
    try:
        report.taken.append(_take(source, path, name, archive, errors, actor=actor, at=at, retried=retried))
    finally:
        held.close()


def _settled(entry: os.DirEntry, pattern: str, settle: int, now_ts: float) -> bool | None:
    """True: take it; False: wait (still settling); None: not a file for the collector."""
    if not is_candidate(entry.name, pattern):
        return None
    try:
        if not entry.is_file(follow_symlinks=False):
            return None
        mtime = entry.stat(follow_symlinks=False).st_mtime
    except FileNotFoundError:
        return None
    return now_ts - mtime >= settle


def is_due(source: UsageSource, at: dt.datetime) -> bool:
    """An SFTP source is pulled every `every_minutes` (half a minute of slack: the periodic task
    fires on the minute, a little late or early)."""
    if source.last_pull_at is None:
        return True
    return at >= source.last_pull_at + dt.timedelta(minutes=source.every_minutes) - dt.timedelta(seconds=30)


def collect_source(source: UsageSource, *, actor: Actor, at: dt.datetime, pull: bool | None = None) -> CollectReport:
    """One scan of one source's inbox (see the module's description), then, for an SFTP source,
    a pull (`services.pull`) when it is due (`pull=None`), always (`True`) or never (`False`);
    records last_scan_at and, when a file is refused or the scan or pull fails, last_error."""
    _may_change(actor, source.brand)
    if not source.enabled:
        raise ServiceError(f"enabled: the source {source.code} is disabled", field="enabled")
    report = CollectReport(source)
    try:
        inbox, processing, archive, errors = _ensure_folders(source)
        for entry in sorted(os.scandir(processing), key=lambda e: e.name):
            if entry.is_file(follow_symlinks=False):
                _handle(source, Path(entry.path), entry.name, archive, errors, actor=actor, at=at, retried=True,
                        report=report)
        now_ts = time.time()
        ready = []
        for entry in os.scandir(inbox):
            state = _settled(entry, source.pattern, source.settle_seconds, now_ts)
            if state is None:
                continue
            if state:
                ready.append((entry.stat().st_mtime, entry.name))
            else:
                report.waiting += 1
        for _mtime, name in sorted(ready):
            claimed = _claim(inbox, processing, name)
            if claimed is None:
                report.waiting += 1
                continue
            _handle(source, claimed, name, archive, errors, actor=actor, at=at, retried=False, report=report)
    except OSError as exc:
        report.error = f"{exc.strerror or exc}: {exc.filename or ''}".strip(": ")
        logger.warning("collector %s/%s: %s", source.brand.code, source.code, report.error)
    except (OperationalError, InterfaceError) as exc:
        report.error = f"database: {exc}".strip()[:400]
        logger.warning("collector %s/%s: %s", source.brand.code, source.code, report.error)
        return report
    if source.is_sftp and not report.error and (pull or (pull is None and is_due(source, at))):
        from telora.rating.services.pull import pull_source

        pull_source(source, actor=actor, at=at, report=report)
    updates = {"last_scan_at": at}
    refused = [t for t in report.taken if t.outcome == "error"]
    if report.error:
        updates["last_error"] = f"{at:%Y-%m-%d %H:%M:%S} {report.stage} failed: {report.error}"[:500]
    elif refused:
        last = refused[-1]
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        updates["last_error"] = f"{at:%Y-%m-%d %H:%M:%S} {last.name} to errors: {last.reason}{more}"[:500]
    UsageSource.objects.filter(pk=source.pk).update(**updates)
    for key, value in updates.items():
        setattr(source, key, value)
    return report


def collect_all(*, actor: Actor, at: dt.datetime, brand: Brand | None = None,
                code: str | None = None) -> list[CollectReport]:
    """One scan of every enabled source (of one brand, or one source, when given). A source whose
    scan fails does not stop the others."""
    from telora.core.modules import running

    sources = running("rating", UsageSource.objects.filter(enabled=True)).select_related("brand").order_by(
        "brand__code", "code")
    if brand is not None:
        sources = sources.filter(brand=brand)
    if code:
        sources = sources.filter(code=code)
    reports = []
    for source in sources:
        try:
            reports.append(collect_source(source, actor=actor, at=at))
        except ServiceError as exc:  # rights of a person running it for several brands
            reports.append(CollectReport(source, error=exc.message))
    return reports
