"""The embedded PostgreSQL: a real server in a folder of our own, and clear errors when it cannot start."""

import socket
import subprocess

import pytest

from telora.core import embedded_db
from telora.core.embedded_db import EmbeddedDatabaseError, ensure_running


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_starts_creates_the_database_and_stops(tmp_path):
    pgdata = tmp_path / "pgdata"
    port = free_port()
    server = ensure_running(pgdata, port, stop_at_exit=False)
    try:
        assert server.started_here and (pgdata / "PG_VERSION").exists()
        psql = embedded_db._bin("psql")
        out = subprocess.run([str(psql), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "telora",
                              "-tAc", "select current_database()"], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "telora"
        again = ensure_running(pgdata, port, stop_at_exit=False)
        assert not again.started_here  # a second process reuses it and will not stop it
    finally:
        server.stop()
    assert not embedded_db._is_running(pgdata)


def test_a_busy_port_is_a_clear_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(EmbeddedDatabaseError, match=f"port {port} .* in use"):
            ensure_running(tmp_path / "pgdata", port, stop_at_exit=False)


def test_a_foreign_directory_is_refused(tmp_path):
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "notes.txt").write_text("not a database")
    with pytest.raises(EmbeddedDatabaseError, match="not a PostgreSQL data directory"):
        ensure_running(pgdata, free_port(), stop_at_exit=False)


def test_an_unusable_directory_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(EmbeddedDatabaseError, match="cannot create"):
        ensure_running(blocker / "var" / "pgdata", free_port(), stop_at_exit=False)
