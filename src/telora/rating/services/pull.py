"""SFTP pull: each due SFTP source's remote folder is listed, new files are downloaded into the
source's inbox area and taken in through the collector's intake, and the remote file is moved,
deleted or kept once its import has committed.

Fetched once. Every remote file is remembered in `RemoteFile` by (source, name, size, sha256),
unique. A file listed again with the same name, size and modification time is not downloaded
again; a file whose content the source has taken in before (a renamed copy, a re-upload) is
downloaded, hashed, recognised and not imported again (`duplicate`).

Never half a file. A remote file modified less than the source's `settle_seconds` ago is left
for a later pull (it may still be written), as are hidden, `*.tmp`, `*.part` and `*.filepart`
names. A file is downloaded to `<inbox>/.download/` and hashed; only a complete
download is moved into `<inbox>/.processing/` and imported. A link cut mid-transfer leaves
nothing imported (the partial file is removed) and the next pull starts again.

Crash-safe. The `RemoteFile` row is written in the import's own transaction with status
"pending" (imported, remote action pending); the remote move or delete follows, then "done". A
pull that stopped in between finds the pending rows first and finishes their remote action; a
downloaded file left in `.processing` is taken by the collector's retry (step 2 of a scan), and
its remote twin is then recognised by its hash.

One pull of a source at a time (a PostgreSQL advisory lock per source): the workers' periodic
task and `telora collect` may run together.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import tempfile
import time
from pathlib import Path

from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction

from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.rating.models import RemoteFile, UsageFile, UsageSource
from telora.rating.services import collector
from telora.rating.services.sealing import SealError, unseal
from telora.rating.services.sftp import RemoteEntry, Session, SftpError, fingerprint_of

logger = logging.getLogger(__name__)
DOWNLOAD = ".download"


def session(source: UsageSource) -> Session:
    """An SFTP session with the source's settings and opened credentials."""
    try:
        password, private_key = unseal(source.sftp_secret, brand_id=source.brand_id, source_id=source.pk)
    except SealError as exc:
        raise SftpError(str(exc), field="credentials") from None
    if not password and not private_key:
        raise SftpError("credentials: the source has no password or private key", field="credentials")
    return Session(host=source.sftp_host, port=source.sftp_port, user=source.sftp_user, path=source.sftp_path,
                   pinned=source.sftp_host_key, password=password, private_key=private_key)


@contextlib.contextmanager
def _pull_lock(source: UsageSource):
    key = f"telora.rating.pull:{source.pk}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])


def _known(source: UsageSource) -> set[tuple[str, int, int]]:
    return set(RemoteFile.objects.filter(source=source).values_list("name", "size", "mtime"))


def wanted(source: UsageSource, entries: list[RemoteEntry]) -> list[tuple[RemoteEntry, str]]:
    """Each remote file matching the pattern with what a pull would do: "fetch", "seen" (fetched
    before) or "settling" (modified less than `settle_seconds` ago: perhaps still being written;
    by the server's time stamp against this machine's clock, as for inbox files)."""
    known = _known(source)
    now_ts = time.time()
    found = []
    for entry in entries:
        if not collector.is_candidate(entry.name, source.pattern):
            continue
        if (entry.name, entry.size, entry.mtime) in known:
            found.append((entry, "seen"))
        elif now_ts - entry.mtime < source.settle_seconds:
            found.append((entry, "settling"))
        else:
            found.append((entry, "fetch"))
    return found


def _finish(sftp: Session, source: UsageSource, row: RemoteFile, at: dt.datetime) -> None:
    """The remote action of a committed import, then the row is "done"."""
    if source.sftp_after == "delete":
        sftp.delete(row.name)
    elif source.sftp_after == "move":
        sftp.move(row.name, source.sftp_after_folder)
    RemoteFile.objects.filter(pk=row.pk).update(status="done", done_at=at)


def _remember(source, entry: RemoteEntry, sha: str, size: int, at, **fields) -> RemoteFile:
    return RemoteFile.objects.create(brand_id=source.brand_id, source=source, name=entry.name, size=size, sha256=sha,
                                     mtime=entry.mtime, fetched_at=at, **fields)


def _fetch_one(sftp: Session, source: UsageSource, entry: RemoteEntry, *, actor: Actor, at: dt.datetime,
               report: collector.CollectReport) -> None:
    inbox = Path(source.inbox)
    download, processing = inbox / DOWNLOAD, inbox / collector.PROCESSING
    download.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".", suffix=".part", dir=download)
    os.close(fd)
    part = Path(temp)
    try:
        sha, size = sftp.fetch(entry.name, part)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    if size != entry.size:  # still being written on the remote: the next pull takes it whole
        part.unlink(missing_ok=True)
        report.waiting += 1
        return
    same = RemoteFile.objects.filter(source=source, name=entry.name, size=size, sha256=sha).first()
    if same is not None:  # the same file touched again on the remote (a new mtime, the same bytes)
        part.unlink(missing_ok=True)
        RemoteFile.objects.filter(pk=same.pk).update(mtime=entry.mtime)
        return
    earlier = UsageFile.objects.filter(brand_id=source.brand_id, source=source.code, sha256=sha).first()
    if earlier is not None:  # a renamed copy (or a re-upload) of content taken in before
        part.unlink(missing_ok=True)
        row = _remember(source, entry, sha, size, at, file=earlier, duplicate=True, status="pending")
        _finish(sftp, source, row, at)
        report.taken.append(collector.Taken(entry.name, "archived", f"sftp:{sftp.remote(entry.name)}"))
        return
    claimed = collector.free_name(processing, entry.name)
    processing.mkdir(parents=True, exist_ok=True)
    os.rename(part, claimed)
    held = collector._lock(claimed)
    try:
        reason, usage_file = "", None
        with transaction.atomic():
            try:
                usage_file = collector._import(source, claimed, entry.name, actor=actor, at=at)
            except ServiceError as exc:
                reason = exc.message
            except IntegrityError:
                reason = f"file: {entry.name} was already imported from {source.code} (same content)"
            _remember(source, entry, sha, size, at, file=usage_file, status="refused" if reason else "pending",
                      reason=reason[:500])
        archive, errors = Path(source.archive), Path(source.errors)
        if reason:
            moved = collector._move(claimed, errors, entry.name, collector.ERROR_NOTE)
            moved.with_name(moved.name + collector.ERROR_NOTE).write_text(
                f"file: {entry.name}\nsource: {source.brand.code}/{source.code} ({source.format}) "
                f"sftp:{sftp.remote(entry.name)}\nat: {at.isoformat()}\nreason: {reason}\n", encoding="utf-8")
            report.taken.append(collector.Taken(entry.name, "error", str(moved), reason=reason))
            return
        moved = collector._move(claimed, collector._archive_folder(archive, source, at), entry.name)
    finally:
        if held is not None:
            held.close()
    report.taken.append(collector.Taken(entry.name, "archived", str(moved), usage_file.pk, usage_file.read))
    _finish(sftp, source, RemoteFile.objects.get(source=source, name=entry.name, size=size, sha256=sha), at)


def _sweep(download: Path) -> None:
    """Partial downloads of a pull that was killed: removed (the pull holds the source's lock, so
    no other pull is writing them)."""
    if download.is_dir():
        for part in download.glob(".*.part"):
            part.unlink(missing_ok=True)


def pull_source(source: UsageSource, *, actor: Actor, at: dt.datetime, report: collector.CollectReport) -> None:
    """One pull of an SFTP source into `report` (see the module's description). A failure (server
    out of reach, refused key or log-in, link cut) ends the pull and is set as `report.error`:
    what was committed before stays, the rest is taken by the next pull."""
    with _pull_lock(source) as held:
        if not held:
            return  # another collector is pulling this source now
        _sweep(Path(source.inbox) / DOWNLOAD)
        try:
            with session(source) as sftp:
                for row in RemoteFile.objects.filter(source=source, status="pending").order_by("pk"):
                    _finish(sftp, source, row, at)
                for entry, state in wanted(source, sftp.listdir()):
                    if state == "fetch":
                        _fetch_one(sftp, source, entry, actor=actor, at=at, report=report)
                    elif state == "settling":
                        report.waiting += 1
        except SftpError as exc:
            report.error = exc.message
            report.stage = "pull"
            logger.warning("pull %s/%s: %s", source.brand.code, source.code, exc.message)
        except OSError as exc:
            report.error = f"{exc.strerror or exc}: {exc.filename or ''}".strip(": ")
            report.stage = "pull"
        except (OperationalError, InterfaceError) as exc:
            report.error = f"database: {exc}".strip()[:400]
            report.stage = "pull"
        except Exception as exc:  # one source's unexpected failure is its error, not the other sources'
            logger.exception("pull %s/%s", source.brand.code, source.code)
            report.error = f"{type(exc).__name__}: {exc}"[:400]
            report.stage = "pull"
    UsageSource.objects.filter(pk=source.pk).update(last_pull_at=at)
    source.last_pull_at = at


def preview(source: UsageSource) -> list[tuple[RemoteEntry, str]]:
    """`telora sources test`: connect, list, and say what the next pull would fetch."""
    with session(source) as sftp:
        return wanted(source, sftp.listdir())


def trust_host_key(source: UsageSource, *, actor: Actor, at: dt.datetime, fingerprint: str = "") -> str:
    """Pin the host key the server presents now (when `fingerprint` is given, only if it is that
    one); audited. Returns the pinned fingerprint."""
    collector._may_change(actor, source.brand)
    if not source.is_sftp:
        raise ServiceError(f"sftp_host: {source.code} is not an SFTP source", field="sftp_host")
    seen = fingerprint_of(source.sftp_host, source.sftp_port)
    if fingerprint and fingerprint.strip() != seen:
        raise SftpError(f"sftp_host_key: {source.sftp_host}:{source.sftp_port} presents {seen}, not {fingerprint.strip()}:"
                        f" not trusted", field="sftp_host_key")
    if seen != source.sftp_host_key:
        with transaction.atomic():
            old = source.sftp_host_key
            UsageSource.objects.filter(pk=source.pk).update(sftp_host_key=seen)
            source.sftp_host_key = seen
            record_event(actor=actor, at=at, action="update", obj=source, brand=source.brand,
                         old={"sftp_host_key": old}, new={"sftp_host_key": seen}, message="host key trusted")
    return seen
