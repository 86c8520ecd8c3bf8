"""The SFTP side of pull sources, through asyncssh: connect with the source's pinned host key and
sealed credentials, list the remote folder, download a file to a local path while hashing it, and
move or delete it on the remote once its import has committed.

Errors are `SftpError` (a ServiceError naming the field at fault: `sftp_host` for a server out of
reach, `sftp_host_key` for a key that is not the pinned one, `credentials` for a refused log-in,
`sftp_path` for a remote folder that cannot be read), so they land as one clear line on the
source's status, never a traceback.

The code around it is synchronous (Django); a `Session` runs asyncssh on its own event loop
(`asyncio.Runner`), one call at a time.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import posixpath
import stat
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from telora.core.services.actors import ServiceError

CHUNK = 256 * 1024
TIMEOUT = 20  # seconds to connect and log in
KEEPALIVE = 15  # seconds between keepalives; 4 unanswered end the connection (a hung server fails the pull)
IO_TIMEOUT = 120  # seconds one remote call (a listing, a read of CHUNK bytes, a rename) may take
logging.getLogger("asyncssh").setLevel(logging.WARNING)  # one INFO line per packet phase is noise in the job log


class SftpError(ServiceError):
    """The SFTP server could not be used; `field` names what to fix."""

    def __init__(self, message: str, field: str = "sftp_host"):
        super().__init__(message, field=field, code="sftp")


@dataclass(frozen=True)
class RemoteEntry:
    name: str
    size: int
    mtime: int


class _Pinned(asyncssh.SSHClient):
    """Accepts the server only when its host key's SHA-256 fingerprint is the pinned one (checked
    before any credential is sent); remembers the key it was shown for the error."""

    def __init__(self, pinned: str):
        self.pinned = pinned
        self.seen = ""

    def validate_host_public_key(self, host, addr, port, key) -> bool:
        self.seen = key.get_fingerprint("sha256")
        return bool(self.pinned) and hmac.compare_digest(self.seen, self.pinned)


def fingerprint_of(host: str, port: int) -> str:
    """The SHA-256 fingerprint of the host key the server presents now (no log-in)."""
    async def fetch():
        key = await asyncio.wait_for(asyncssh.get_server_host_key(host, port), TIMEOUT)
        return key.get_fingerprint("sha256") if key else ""

    try:
        found = asyncio.run(fetch())
    except (TimeoutError, OSError, asyncssh.Error) as exc:
        raise SftpError(f"sftp_host: cannot reach {host}:{port}: {_why(exc)}") from None
    if not found:
        raise SftpError(f"sftp_host: {host}:{port} presented no host key")
    return found


def _why(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return f"no answer within {TIMEOUT} s"
    if isinstance(exc, asyncssh.Error):
        return exc.reason or type(exc).__name__
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


class Session:
    """One SFTP connection to a source's server: `with Session(...) as s: s.listdir()`."""

    def __init__(self, *, host: str, port: int, user: str, path: str, pinned: str, password: str = "",
                 private_key: str = ""):
        self.host, self.port, self.user, self.path = host, port, user, path
        self.pinned, self.password, self.private_key = pinned, password, private_key
        self._runner = None
        self._conn = None
        self._sftp = None

    def __enter__(self) -> Session:
        if not self.pinned:
            raise SftpError(f"sftp_host_key: no host key is trusted for {self.host}:{self.port} yet; "
                            f"run `telora sources trust` (or enter its fingerprint)", field="sftp_host_key")
        self._runner = asyncio.Runner()
        try:
            self._runner.run(self._open())
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    async def _open(self) -> None:
        client = _Pinned(self.pinned)
        try:
            keys = [asyncssh.import_private_key(self.private_key)] if self.private_key else []
        except (asyncssh.KeyImportError, ValueError):
            raise SftpError("credentials: the stored private key cannot be read; enter it again",
                            field="credentials") from None
        try:
            self._conn = await asyncio.wait_for(asyncssh.connect(
                self.host, self.port, username=self.user, password=self.password or None, client_keys=keys,
                known_hosts=([], [], []), server_host_key_algs="default", client_factory=lambda: client,
                agent_path=None, config=None, preferred_auth="publickey,password", keepalive_interval=KEEPALIVE,
                keepalive_count_max=4), TIMEOUT)
        except asyncssh.HostKeyNotVerifiable:
            raise SftpError(f"sftp_host_key: {self.host}:{self.port} presented host key {client.seen or '?'}, "
                            f"not the trusted {self.pinned}: refused (if the server's key was changed on purpose, "
                            f"check it and run `telora sources trust`)", field="sftp_host_key") from None
        except asyncssh.PermissionDenied:
            raise SftpError(f"credentials: {self.host}:{self.port} refused the log-in of {self.user!r} "
                            f"(wrong password or key)", field="credentials") from None
        except (TimeoutError, OSError, asyncssh.Error) as exc:
            raise SftpError(f"sftp_host: cannot connect to {self.host}:{self.port}: {_why(exc)}") from None
        try:
            self._sftp = await self._conn.start_sftp_client()
        except (OSError, asyncssh.Error) as exc:
            raise SftpError(f"sftp_host: {self.host}:{self.port} offers no SFTP: {_why(exc)}") from None

    def close(self) -> None:
        if self._runner is None:
            return
        try:
            if self._conn is not None:
                self._conn.close()
                self._runner.run(self._conn.wait_closed())
        except Exception:  # noqa: BLE001 - a connection already gone is closed enough
            pass
        finally:
            self._runner.close()
            self._runner = None
            self._conn = self._sftp = None

    def _call(self, coro, what: str, field: str = "sftp_path", timeout: float | None = IO_TIMEOUT):
        try:
            return self._runner.run(asyncio.wait_for(coro, timeout))
        except asyncssh.SFTPError as exc:
            raise SftpError(f"{field}: {what}: {exc.reason}", field=field) from None
        except (TimeoutError, OSError, asyncssh.Error) as exc:
            raise SftpError(f"sftp_host: {what}: the connection failed: {_why(exc)}") from None

    def remote(self, name: str) -> str:
        return posixpath.join(self.path, name)

    def listdir(self) -> list[RemoteEntry]:
        """Regular files of the remote folder, oldest first."""
        async def scan():
            found = []
            for item in await self._sftp.readdir(self.path):
                attrs = item.attrs
                if attrs.type == asyncssh.FILEXFER_TYPE_REGULAR or (
                        attrs.permissions is not None and stat.S_ISREG(attrs.permissions)):
                    found.append(RemoteEntry(item.filename, attrs.size or 0, int(attrs.mtime or 0)))
            return sorted(found, key=lambda e: (e.mtime, e.name))

        return self._call(scan(), f"cannot list {self.path}")

    def fetch(self, name: str, local: Path) -> tuple[str, int]:
        """Download `name` to `local` (written and synced there, hashed on the way): (sha256, size)."""
        async def download():
            digest, size = hashlib.sha256(), 0
            async with self._sftp.open(self.remote(name), "rb") as remote:
                with local.open("wb") as out:
                    while chunk := await asyncio.wait_for(remote.read(CHUNK), IO_TIMEOUT):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                    out.flush()
                    os.fsync(out.fileno())
            return digest.hexdigest(), size

        return self._call(download(), f"cannot download {self.remote(name)}", timeout=None)

    def exists(self, path: str) -> bool:
        return self._call(self._sftp.exists(path), f"cannot look at {path}")

    def delete(self, name: str) -> bool:
        """Remove the remote file; False when it is gone already."""
        path = self.remote(name)
        if not self.exists(path):
            return False
        self._call(self._sftp.remove(path), f"cannot delete {path}", field="sftp_after")
        return True

    def move(self, name: str, folder: str) -> str | None:
        """Move the remote file into `folder` (made when missing) under a free name
        (`cdrs.1.csv` when `cdrs.csv` is there); None when it is gone already."""
        path = self.remote(name)
        if not self.exists(path):
            return None
        if not self.exists(folder):
            self._call(self._sftp.makedirs(folder, exist_ok=True), f"cannot make {folder}", field="sftp_after_folder")
        stem, dot, suffix = name.partition(".") if not name.startswith(".") else (name, "", "")
        target, n = posixpath.join(folder, name), 0
        while self.exists(target):
            n += 1
            target = posixpath.join(folder, f"{stem}.{n}{dot}{suffix}" if dot else f"{name}.{n}")
        self._call(self._sftp.rename(path, target), f"cannot move {path} to {target}", field="sftp_after_folder")
        return target
