"""SFTP pull sources against a real SFTP server process (asyncssh, tests/rating/sftp_server.py):
a remote file fetched, taken in and rated once, then moved, deleted or kept; nothing fetched
twice (a re-listing, a renamed copy); a link cut mid-transfer leaves nothing imported; a changed
host key refused; a wrong password a clear error on the source; the credentials sealed."""

from __future__ import annotations

import datetime as dt
import io
import os
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from rating_helpers import CDRS
from sftp_helpers import PASSWORD, USER, SftpServer

from gui_helpers import form_errors, login
from telora.core.models import AuditEvent
from telora.core.services.actors import ServiceError
from telora.rating.models import RatedUsage, RemoteFile, UsageFile, UsageSource
from telora.rating.services import rate_pending
from telora.rating.services.collector import collect_all, collect_source, create_source, update_source
from telora.rating.services.pull import preview, trust_host_key
from telora.rating.services.sealing import unseal

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]  # the transactional test is last
AT = dt.datetime(2026, 10, 6, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def server(tmp_path):
    running = SftpServer(tmp_path / "sftp").start()
    yield running
    running.stop()


@pytest.fixture
def make_source(nord, system, server, tmp_path):
    def make(after="move", code="msc", trust=True, **values):
        fields = {"sftp_host": "127.0.0.1", "sftp_port": server.port, "sftp_user": USER, "sftp_path": "/out",
                  "pattern": "*.csv", "sftp_after": after, "sftp_after_folder": "/done" if after == "move" else "",
                  "password": PASSWORD, "settle_seconds": 0} | values
        source = create_source(nord, actor=system, at=AT, code=code, format="csv",
                               inbox=str(tmp_path / "local" / code / "inbox"), **fields)
        if trust:
            trust_host_key(source, actor=system, at=AT)
        return source
    return make


@pytest.fixture
def lines(line_for):
    return line_for("4520000001"), line_for("4520000002")


def pull(source, system, at=AT):
    return collect_source(source, actor=system, at=at, pull=True)


@pytest.mark.parametrize("after", ["move", "delete", "keep"])
def test_a_remote_file_is_fetched_rated_once_then_moved_deleted_or_kept(after, make_source, server, lines, nord,
                                                                         system, tmp_path):
    server.put("/out/cdrs.csv", CDRS.read_bytes())
    server.put("/out/notes.txt", b"not usage")
    source = make_source(after)
    report = pull(source, system)
    assert report.error == ""
    assert [(t.name, t.outcome, t.read) for t in report.taken] == [("cdrs.csv", "archived", 12)]
    usage_file = UsageFile.objects.get()
    assert (usage_file.source, usage_file.name, usage_file.size) == ("msc", "cdrs.csv", CDRS.stat().st_size)
    rate_pending(nord)
    assert RatedUsage.objects.filter(file_id=usage_file.pk).count() == 9
    archived = tmp_path / "local" / "msc" / "archive" / "2026" / "10" / "06" / "cdrs.csv"
    assert archived.read_bytes() == CDRS.read_bytes()
    row = RemoteFile.objects.get()
    assert (row.name, row.size, row.status, row.file_id, row.duplicate) == (
        "cdrs.csv", CDRS.stat().st_size, "done", usage_file.pk, False)
    expected = {"move": (["notes.txt"], ["cdrs.csv"]), "delete": (["notes.txt"], []),
                "keep": (["cdrs.csv", "notes.txt"], [])}[after]
    assert (server.files("/out"), server.files("/done")) == expected
    again = pull(source, system, AT + dt.timedelta(minutes=5))
    assert (again.error, again.taken) == ("", [])
    assert UsageFile.objects.count() == 1 and RemoteFile.objects.count() == 1
    assert not list((tmp_path / "local" / "msc" / "inbox" / ".download").iterdir())


def test_a_refused_file_goes_to_the_error_folder_and_stays_on_the_remote(make_source, server, system, tmp_path):
    source = make_source("delete")
    server.put("/out/bad.csv", b"not,a\nusage file\n")
    report = pull(source, system)
    assert [(t.name, t.outcome) for t in report.taken] == [("bad.csv", "error")]
    errors = tmp_path / "local" / "msc" / "errors"
    assert sorted(p.name for p in errors.iterdir()) == ["bad.csv", "bad.csv.error.txt"]
    assert "sftp:/out/bad.csv" in (errors / "bad.csv.error.txt").read_text()
    assert server.files("/out") == ["bad.csv"] and not UsageFile.objects.exists()
    assert RemoteFile.objects.get().status == "refused"
    source.refresh_from_db()
    assert "bad.csv to errors: file: " in source.last_error
    assert pull(source, system, AT + dt.timedelta(minutes=1)).taken == []  # not fetched again


def test_a_remote_file_still_settling_waits_for_a_later_pull(make_source, server, system):
    source = make_source("delete", settle_seconds=600)
    path = server.put("/out/cdrs.csv", CDRS.read_bytes())  # modified just now: perhaps still being written
    report = pull(source, system)
    assert (report.taken, report.waiting) == ([], 1)
    assert [(e.name, state) for e, state in preview(source)] == [("cdrs.csv", "settling")]
    stamp = time.time() - 601
    os.utime(path, (stamp, stamp))
    report = pull(source, system, AT + dt.timedelta(minutes=1))
    assert ([t.outcome for t in report.taken], report.waiting) == (["archived"], 0)
    assert server.files("/out") == []


def test_a_renamed_copy_with_the_same_bytes_is_not_imported_twice(make_source, server, system):
    source = make_source("keep")
    server.put("/out/a.csv", CDRS.read_bytes())
    assert [t.read for t in pull(source, system).taken] == [12]
    server.put("/out/a-resent.csv", CDRS.read_bytes())
    report = pull(source, system, AT + dt.timedelta(minutes=1))
    assert [(t.name, t.outcome, t.file_id) for t in report.taken] == [("a-resent.csv", "archived", None)]
    assert "already taken in" in report.taken[0].line(source)
    assert UsageFile.objects.count() == 1
    assert sorted(RemoteFile.objects.values_list("name", "duplicate")) == [("a-resent.csv", True), ("a.csv", False)]
    assert pull(source, system, AT + dt.timedelta(minutes=2)).taken == []


def test_a_link_cut_mid_transfer_leaves_nothing_imported_and_the_next_pull_succeeds(make_source, server, system,
                                                                                     tmp_path):
    big = CDRS.read_bytes() * 4000  # over a megabyte: several reads
    server.put("/out/big.csv", big)
    source = make_source("delete")
    server.faults(drop_after=300_000)
    report = pull(source, system)
    assert report.error.startswith("sftp_host: cannot download /out/big.csv: the connection failed")
    assert report.taken == []
    assert not UsageFile.objects.exists() and not RemoteFile.objects.exists()
    local = tmp_path / "local" / "msc" / "inbox"
    assert list((local / ".download").iterdir()) == [] and list((local / ".processing").iterdir()) == []
    source.refresh_from_db()
    assert "pull failed: sftp_host: cannot download /out/big.csv" in source.last_error
    assert server.files("/out") == ["big.csv"]
    server.faults()
    (local / ".download" / ".left-by-a-killed-pull.part").write_bytes(b"half")
    report = pull(source, system, AT + dt.timedelta(minutes=1))
    assert (report.error, [t.outcome for t in report.taken]) == ("", ["archived"])
    assert UsageFile.objects.get().size == len(big)
    assert server.files("/out") == [] and list((local / ".download").iterdir()) == []


def test_a_crash_after_the_commit_is_repaired_by_the_next_pull(make_source, server, system):
    source = make_source("move")
    server.put("/out/cdrs.csv", CDRS.read_bytes())
    pull(source, system)
    # As if the collector had stopped after the commit, before the remote move:
    server.put("/out/cdrs.csv", (server.root / "done" / "cdrs.csv").read_bytes())
    (server.root / "done" / "cdrs.csv").unlink()
    RemoteFile.objects.update(status="pending", done_at=None)
    report = pull(source, system, AT + dt.timedelta(minutes=1))
    assert (report.error, report.taken) == ("", [])
    assert RemoteFile.objects.get().status == "done"
    assert (server.files("/out"), server.files("/done")) == ([], ["cdrs.csv"])
    assert UsageFile.objects.count() == 1


def test_a_changed_host_key_is_refused(make_source, server, system):
    source = make_source("delete")
    pinned = source.sftp_host_key
    assert pinned == server.fingerprint
    server.restart_with_new_host_key()
    server.put("/out/cdrs.csv", CDRS.read_bytes())
    report = pull(source, system)
    assert report.error == (f"sftp_host_key: 127.0.0.1:{server.port} presented host key {server.fingerprint}, not the "
                            f"trusted {pinned}: refused (if the server's key was changed on purpose, check it and run "
                            f"`telora sources trust`)")
    assert not UsageFile.objects.exists() and server.files("/out") == ["cdrs.csv"]
    with pytest.raises(ServiceError, match="not trusted"):
        trust_host_key(source, actor=system, at=AT, fingerprint=pinned)
    assert trust_host_key(source, actor=system, at=AT, fingerprint=server.fingerprint) == server.fingerprint
    assert pull(source, system, AT + dt.timedelta(minutes=1)).error == ""
    assert UsageFile.objects.count() == 1


def test_no_pinned_key_no_pull(make_source, server, system):
    source = make_source("keep", trust=False)
    report = pull(source, system)
    assert report.error.startswith("sftp_host_key: no host key is trusted for 127.0.0.1:")


def test_a_server_out_of_reach_is_a_clear_error(make_source, server, system):
    source = make_source("keep")
    server.stop()
    report = pull(source, system)
    assert report.error.startswith(f"sftp_host: cannot connect to 127.0.0.1:{server.port}: ")
    with pytest.raises(ServiceError, match=f"sftp_host: cannot reach 127.0.0.1:{server.port}"):
        trust_host_key(source, actor=system, at=AT)


def test_a_wrong_password_is_a_clear_error_on_the_source(make_source, server, system):
    source = make_source("keep", password="not-the-password")
    server.put("/out/cdrs.csv", CDRS.read_bytes())
    reports = collect_all(actor=system, at=AT)
    assert [r.error for r in reports] == [
        f"credentials: 127.0.0.1:{server.port} refused the log-in of 'mediation' (wrong password or key)"]
    source.refresh_from_db()
    assert source.last_error == (f"2026-10-06 08:00:00 pull failed: credentials: 127.0.0.1:{server.port} refused the "
                                 f"log-in of 'mediation' (wrong password or key)")
    assert not UsageFile.objects.exists()


def test_a_private_key_logs_in(make_source, server, system):
    source = make_source("keep", password="", private_key=server.client_key)
    server.put("/out/cdrs.csv", CDRS.read_bytes())
    assert [(e.name, state) for e, state in preview(source)] == [("cdrs.csv", "fetch")]
    assert pull(source, system).error == ""
    assert [(e.name, state) for e, state in preview(source)] == [("cdrs.csv", "seen")]


def test_the_schedule_pulls_every_n_minutes(make_source, server, system):
    make_source("keep", every_minutes=15)
    server.put("/out/a.csv", CDRS.read_bytes())
    assert [r.archived for r in collect_all(actor=system, at=AT)] == [1]
    server.put("/out/b.csv", CDRS.read_bytes().replace(b"nord-", b"nord-b-"))
    assert [r.archived for r in collect_all(actor=system, at=AT + dt.timedelta(minutes=14))] == [0]
    assert [r.archived for r in collect_all(actor=system, at=AT + dt.timedelta(minutes=15))] == [1]


def test_the_credentials_are_sealed_and_never_audited(make_source, server, system, nord):
    source = make_source("keep", password=PASSWORD, private_key=server.client_key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT t::text, sftp_secret FROM rating_usagesource t WHERE id = %s", [source.pk])
        text, blob = cursor.fetchone()
    assert PASSWORD not in text and PASSWORD.encode() not in bytes(blob)
    assert "PRIVATE KEY" not in text and b"PRIVATE KEY" not in bytes(blob)
    assert unseal(blob, brand_id=nord.pk, source_id=source.pk) == (PASSWORD, server.client_key.strip() + "\n")
    update_source(source, actor=system, at=AT, password="pw-new-7781")
    update_source(source, actor=system, at=AT, pattern="*.cdr")  # credentials stay
    assert unseal(UsageSource.objects.get().sftp_secret, brand_id=nord.pk, source_id=source.pk) == ("pw-new-7781", "")
    events = list(AuditEvent.objects.filter(object_type="rating.usagesource").order_by("pk").values_list(
        "changes", flat=True))
    dumped = repr(events)
    assert len(events) == 4 and PASSWORD not in dumped and "pw-new-7781" not in dumped and "PRIVATE" not in dumped
    assert [e.get("credentials") for e in events] == [[None, "set"], None, ["set", "changed"], None]
    assert events[1] == {"sftp_host_key": ["", source.sftp_host_key]} and events[3] == {"pattern": ["*.csv", "*.cdr"]}
    other = UsageSource.objects.create(brand=nord, code="copy", format="csv", inbox="/x/in", archive="/x/a",
                                       errors="/x/e", sftp_host="h", sftp_secret=bytes(blob))
    with pytest.raises(Exception, match="do not open"):
        unseal(other.sftp_secret, brand_id=nord.pk, source_id=other.pk)


@pytest.mark.parametrize(("values", "message"), [
    ({"sftp_user": ""}, "sftp_user: is required for an SFTP source"),
    ({"sftp_path": "out"}, "sftp_path: an absolute remote path"),
    ({"sftp_port": 70000}, "sftp_port: between 1 and 65535"),
    ({"sftp_after": "move", "sftp_after_folder": ""}, "sftp_after_folder: an absolute remote path"),
    ({"sftp_after": "shred"}, "sftp_after: one of keep, move, delete"),
    ({"sftp_host_key": "md5:aa"}, "sftp_host_key: a SHA-256 fingerprint"),
    ({"every_minutes": 0}, "every_minutes: between 1 and 1440"),
    ({"private_key": "not a key"}, "private_key: not an unencrypted OpenSSH or PEM private key"),
])
def test_sftp_settings_are_checked_naming_the_field(nord, system, tmp_path, values, message):
    fields = {"sftp_host": "127.0.0.1", "sftp_user": USER, "sftp_path": "/out", "password": "x"} | values
    with pytest.raises(ServiceError, match=message) as caught:
        create_source(nord, actor=system, at=AT, code="msc", format="csv", inbox=str(tmp_path / "in"), **fields)
    assert caught.value.field == message.split(":")[0]


def test_a_folder_source_is_not_pulled(nord, system, tmp_path):
    source = create_source(nord, actor=system, at=AT, code="msc", format="csv", inbox=str(tmp_path / "in"))
    assert not source.is_sftp and collect_source(source, actor=system, at=AT).error == ""
    assert Path(source.inbox).exists() and not (Path(source.inbox) / ".download").exists()


# ---- the command line -------------------------------------------------------------------------

def test_sources_add_test_list_and_collect_from_the_command_line(nord, server, tmp_path, capsys, monkeypatch,
                                                                  line_for):
    server.put("/out/cdrs.csv", CDRS.read_bytes())
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    call_command("sources", "add", "--brand", "NORD", "--code", "msc", "--format", "csv", "--inbox",
                 str(tmp_path / "in"), "--pattern", "*.csv", "--settle", "0", "--sftp", f"127.0.0.1:{server.port}", "--user", USER,
                 "--path", "/out", "--password-stdin", "--after", "move:/done", "--every", "5", "--trust-host-key")
    out = capsys.readouterr().out
    assert f"pulled every 5 min from sftp://mediation@127.0.0.1:{server.port}/out, then moved to /done" in out
    assert f"host key trusted: {server.fingerprint}" in out and PASSWORD not in out
    source = UsageSource.objects.get()
    assert (source.sftp_after, source.sftp_after_folder, source.every_minutes) == ("move", "/done", 5)
    call_command("sources", "test", "--brand", "NORD", "--code", "msc")
    out = capsys.readouterr().out
    assert "/out: 1 file(s) matching *.csv" in out
    assert f"  cdrs.csv  {CDRS.stat().st_size} bytes  would be fetched" in out
    call_command("collect", "--once", "--brand", "NORD")
    assert "NORD/msc: cdrs.csv taken in (file" in capsys.readouterr().out
    assert server.files("/done") == ["cdrs.csv"]
    call_command("sources", "list", "--brand", "NORD")
    out = capsys.readouterr().out
    assert f"sftp://mediation@127.0.0.1:{server.port}/out every 5 min, then moved to /done; {server.fingerprint}" in out


def test_sources_add_sftp_refusals_are_one_line(nord, tmp_path):
    base = ["sources", "add", "--brand", "NORD", "--code", "msc", "--format", "csv", "--inbox", str(tmp_path / "in")]
    with pytest.raises(CommandError, match="--sftp needs --password-stdin or --key-file"):
        call_command(*base, "--sftp", "h", "--user", "u", "--path", "/out")
    with pytest.raises(CommandError, match="--user, --path, --password-stdin and --key-file need --sftp"):
        call_command(*base, "--user", "u")
    with pytest.raises(CommandError, match="--key-file: No such file or directory"):
        call_command(*base, "--sftp", "h", "--user", "u", "--path", "/out", "--key-file", str(tmp_path / "none"))
    assert not UsageSource.objects.exists()


# ---- the screens ------------------------------------------------------------------------------

def test_the_screens_create_and_edit_an_sftp_source_with_a_write_only_password(make_user, nord, server, tmp_path):
    client = login(make_user("otto", {nord: ["rating.view", "rating.change"]}), nord)
    data = {"code": "msc", "format": "csv", "inbox": str(tmp_path / "in"), "settle_seconds": "0", "pattern": "*.csv",
            "enabled": "on", "sftp_host": "127.0.0.1", "sftp_port": str(server.port), "sftp_user": USER,
            "password": PASSWORD, "sftp_path": "/out", "sftp_host_key": server.fingerprint, "sftp_after": "move",
            "sftp_after_folder": "", "every_minutes": "10"}
    response = client.post(reverse("rating:source_create"), data)
    assert form_errors(response) == {"sftp_after_folder": ["an absolute remote path such as /out (at most 500 characters)"]}
    assert PASSWORD not in response.content.decode()  # not even sent back on an error
    response = client.post(reverse("rating:source_create"), data | {"sftp_after_folder": "/done"})
    assert response.status_code == 302
    source = UsageSource.objects.get()
    assert (source.sftp_host_key, source.every_minutes, source.sftp_after_folder) == (server.fingerprint, 10, "/done")
    html = client.get(reverse("rating:source_list")).content.decode()
    assert f"sftp://mediation@127.0.0.1:{server.port}/out" in html and server.fingerprint in html
    edit = reverse("rating:source_edit", args=[source.pk])
    page = client.get(edit).content.decode()
    assert PASSWORD not in page and "leave both empty to keep them" in page
    response = client.post(edit, data | {"sftp_after_folder": "/done", "password": "", "every_minutes": "3"})
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.every_minutes == 3 and unseal(source.sftp_secret, brand_id=nord.pk, source_id=source.pk)[0] == PASSWORD
    server.put("/out/cdrs.csv", CDRS.read_bytes())
    response = client.post(reverse("rating:source_scan", args=[source.pk]))
    assert response.status_code == 302 and server.files("/done") == ["cdrs.csv"]


def test_another_brands_sftp_source_is_a_404(make_user, make_source, brand_b, server, system):
    source = make_source("delete")
    server.put("/out/cdrs.csv", CDRS.read_bytes())
    client = login(make_user("bob", {brand_b: ["rating.view", "rating.change"]}), brand_b)
    assert client.get(reverse("rating:source_list")).context["rows"] == []
    assert client.get(reverse("rating:source_edit", args=[source.pk])).status_code == 404
    assert client.post(reverse("rating:source_edit", args=[source.pk]), {"sftp_host": "evil.example"}).status_code == 404
    assert client.post(reverse("rating:source_scan", args=[source.pk])).status_code == 404
    assert server.files("/out") == ["cdrs.csv"] and not UsageFile.objects.exists()
    source.refresh_from_db()
    assert source.sftp_host == "127.0.0.1"


@pytest.mark.django_db(transaction=True)
def test_three_pulls_at_once_fetch_each_file_once(make_brand, system, server, tmp_path):
    import threading

    brand = make_brand("alpha")
    source = create_source(brand, actor=system, at=AT, code="msc", format="csv", inbox=str(tmp_path / "in"),
                           settle_seconds=0, sftp_host="127.0.0.1", sftp_port=server.port, sftp_user=USER,
                           sftp_path="/out", sftp_after="delete", password=PASSWORD)
    trust_host_key(source, actor=system, at=AT)
    header = CDRS.read_text().splitlines()[0]
    for n in range(12):
        server.put(f"/out/f{n:02d}.csv", f"{header}\nt-{n},voice,4520000001,4533123456,2026-10-05T09:15:00+02:00,"
                                         f"60,,,DK,\n".encode())
    start = threading.Barrier(3)
    reports, failures = [], []

    def run():
        try:
            start.wait()
            for minute in range(2):
                reports.append(pull(UsageSource.objects.get(pk=source.pk), system, AT + dt.timedelta(minutes=minute)))
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and [r.error for r in reports if r.error] == []
    taken = sorted(t.name for r in reports for t in r.taken)
    assert taken == [f"f{n:02d}.csv" for n in range(12)]
    assert UsageFile.objects.count() == 12 and RemoteFile.objects.filter(status="done").count() == 12
    assert server.files("/out") == []
