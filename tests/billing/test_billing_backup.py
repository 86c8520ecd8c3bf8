"""`telora backup` and `telora restore`: an installation with invoices and files is backed up,
restored into a new one by the real command, and shows the same invoices, rows and files."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid

import psycopg
import pytest
import time_machine
from billing_helpers import cph
from django.conf import settings
from django.db import connection

from telora.billing.services import execute_run, start_run
from telora.core.backup import BackupError, backup, read_manifest, restore

pytestmark = pytest.mark.django_db(transaction=True)
PDF = b"%PDF-1.4\n% a scanned contract\n"


def _server() -> dict:
    db = settings.DATABASES["default"]
    return {"host": db.get("HOST") or "127.0.0.1", "port": db.get("PORT") or 5432, "user": db.get("USER") or "postgres"}


@pytest.fixture
def empty_database():
    """A new, empty database on the same server; dropped afterwards."""
    name = f"telora_restore_{uuid.uuid4().hex[:8]}"
    server = _server()
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name, f"postgresql://{server['user']}@{server['host']}:{server['port']}/{name}"
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def installation(nord, system, account_for, subscribe, rated, settings, tmp_path):
    """NORD with two customers, a customer file and February billed in production."""
    from telora.customers import services as s

    settings.MEDIA_ROOT = tmp_path / "media"
    first, second = account_for("Tove Hansen"), account_for("Mads Jensen")
    subscribe(first, "2026-02-01")
    mobile = subscribe(second, "2026-02-01")
    rated(mobile, "2026-02-10T10:00", "voice", "DK", "3.250000", quantity=600)
    s.upload_customer_file(first.customer, PDF, actor=system, at=cph("2026-02-02"), name="contract.pdf",
                           content_type="application/pdf")
    with time_machine.travel(cph("2026-03-02T06:00"), tick=False):
        run = execute_run(start_run(nord, "M01", "2026-02", (), "production", actor=system, at=cph("2026-03-02T06:00")),
                          at=cph("2026-03-02T06:00"))
    assert run.invoices.count() == 2
    return run


def _rows(conn) -> dict:
    tables = [r[0] for r in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename").fetchall()]
    return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def _invoices(conn) -> list:
    return conn.execute("SELECT number, total::text, tax::text, document::text FROM billing_invoice "
                        "ORDER BY number").fetchall()


def test_a_backup_restores_elsewhere_with_the_same_invoices(installation, empty_database, tmp_path):
    archive = tmp_path / "backup.tar"
    steps = []
    result = backup(archive, progress=steps.append)
    assert result.manifest["media"]["files"] == 1 and steps[-1].startswith("Backup written")
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(BackupError, match="exists already"):
        backup(archive)  # never overwrites

    name, url = empty_database
    elsewhere = tmp_path / "elsewhere"
    env = {**os.environ, "DATABASE_URL": url, "TELORA_VAR": str(elsewhere)}
    env.pop("TELORA_SECRET_KEY", None)
    env.pop("SECRET_KEY", None)

    def telora(*args, **extra):
        return subprocess.run([sys.executable, "-m", "telora.cli", *args], capture_output=True, text=True,
                              env={**env, **extra}, timeout=300)

    # Another installation's key: refused before anything is written, and the reason named.
    refused = telora("restore", str(archive))
    assert refused.returncode == 1 and "sealed with another key" in refused.stderr
    with psycopg.connect(url) as target:
        assert _rows(target) == {}

    restored = telora("restore", str(archive), TELORA_SECRET_KEY=settings.SECRET_KEY)
    assert restored.returncode == 0, restored.stderr
    with psycopg.connect(url) as target:
        assert _invoices(target) == _invoices(connection.connection) and len(_invoices(target)) == 2
        assert _rows(target) == _rows(connection.connection)
    copied = [p for p in (elsewhere / "media").rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in copied] == [PDF]

    again = telora("restore", str(archive), TELORA_SECRET_KEY=settings.SECRET_KEY)
    assert again.returncode == 1 and "the database is not empty" in again.stderr


def test_a_damaged_or_foreign_archive_is_refused_clearly(installation, tmp_path):
    archive = tmp_path / "backup.tar"
    backup(archive)
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        dump = tar.extractfile("database.dump").read()
    assert read_manifest(archive)["database"]["sha256"] == manifest["database"]["sha256"]
    assert set(manifest["sealing_keys"]) == {"SIM secrets", "source credentials", "webhook secrets",
                                             "provisioning credentials", "porting secrets"}
    assert all("fingerprint" in key for key in manifest["sealing_keys"].values()) and settings.SECRET_KEY not in archive.read_bytes().decode(
        "latin-1")

    damaged = tmp_path / "damaged.tar"
    with tarfile.open(damaged, "w") as tar:
        for name, data in (("manifest.json", json.dumps(manifest).encode()), ("database.dump", dump[:-10])):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    climbing = tmp_path / "climbing.tar"
    with tarfile.open(climbing, "w") as tar:
        for name, data in (("manifest.json", json.dumps(manifest).encode()), ("database.dump", dump),
                           ("media/../../evil.txt", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (tmp_path / "plain.tar").write_bytes(b"not an archive")

    with pytest.raises(BackupError, match="not a Telora backup"):
        restore(tmp_path / "plain.tar")
    with pytest.raises(BackupError, match="does not match its manifest"):
        restore(damaged)
    with pytest.raises(BackupError, match="the database is not empty"):
        restore(archive)  # this test database holds the installation: nothing is touched
    from telora.core.backup import _extract

    with tarfile.open(climbing) as tar, pytest.raises(BackupError, match="unsafe entry"):
        _extract(tar, tar.getmember("media/../../evil.txt"), "../../evil.txt", tmp_path / "media-target")
    assert not (tmp_path / "evil.txt").exists()
