"""The pull collector on real folders: complete files taken in and archived, young and partial
files left alone, refused files in the error folder with their reason, files left in .processing
retried without a second intake, two collectors at once never taking one file twice."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from rating_helpers import CDRS

from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.rating.models import FailedRecord, RatingBatch, UsageFile, UsageSource
from telora.rating.services import import_usage_file
from telora.rating.services.collector import (
    collect_all,
    collect_source,
    create_source,
    delete_source,
    update_source,
)

pytestmark = pytest.mark.django_db
# 23:30 UTC on 5 October is already the 6th in Amsterdam (brand_a's timezone): the archive day.
AT = dt.datetime(2026, 10, 5, 23, 30, tzinfo=dt.UTC)
HEADER = "record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"


def put(folder: Path, name: str, content: bytes | str, age: float = 60) -> Path:
    """A file in `folder` whose modification time is `age` seconds ago (by the file system's clock)."""
    path = folder / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def csv_file(record_id: str) -> str:
    return HEADER + f"{record_id},voice,4520000001,4533123456,2026-10-05T09:15:00+02:00,60,,,DK,\n"


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def source(brand_a, system, tmp_path):
    return create_source(brand_a, actor=system, at=clock.now(), code="msc", format="csv",
                         inbox=str(tmp_path / "msc" / "inbox"), settle_seconds=30)


@pytest.fixture
def inbox(source):
    path = Path(source.inbox)
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_complete_files_are_taken_in_and_archived_by_the_brands_day(source, inbox, tmp_path, system):
    put(inbox, "cdrs.csv", CDRS.read_bytes())
    report = collect_source(source, actor=system, at=AT)
    assert [(t.name, t.outcome) for t in report.taken] == [("cdrs.csv", "archived")]
    archived = tmp_path / "msc" / "archive" / "2026" / "10" / "06" / "cdrs.csv"
    assert archived.read_bytes() == CDRS.read_bytes()
    assert names(inbox) == [".processing"] and names(inbox / ".processing") == []
    usage_file = UsageFile.objects.get()
    assert (usage_file.name, usage_file.source, usage_file.format, usage_file.read, usage_file.failed) == (
        "cdrs.csv", "msc", "csv", 12, 0)  # its unreadable line is found by the rating worker
    assert usage_file.brand_id == source.brand_id and usage_file.created_at == AT
    assert RatingBatch.objects.filter(file=usage_file).exists()
    assert AuditEvent.objects.filter(action="import", object_id=str(usage_file.pk)).exists()
    assert report.taken[0].file_id == usage_file.pk and report.taken[0].read == 12
    assert "taken in (file" in report.taken[0].line(source)
    source.refresh_from_db()
    assert source.last_scan_at == AT and source.last_error == ""


def test_the_folders_are_made_when_missing(source, system, tmp_path):
    assert not (tmp_path / "msc").exists()
    collect_source(source, actor=system, at=AT)
    assert names(tmp_path / "msc") == ["archive", "errors", "inbox"]
    assert names(tmp_path / "msc" / "inbox") == [".processing"]


def test_a_young_file_is_left_alone_until_it_settles(source, inbox, system):
    path = put(inbox, "late.csv", csv_file("late-1"), age=5)  # settle_seconds is 30
    report = collect_source(source, actor=system, at=AT)
    assert report.taken == [] and report.waiting == 1
    assert path.exists() and not UsageFile.objects.exists()
    stamp = time.time() - 31
    os.utime(path, (stamp, stamp))
    report = collect_source(source, actor=system, at=AT)
    assert [(t.name, t.outcome) for t in report.taken] == [("late.csv", "archived")]
    assert not path.exists() and UsageFile.objects.get().name == "late.csv"


def test_hidden_partial_and_unmatched_files_are_skipped(source, inbox, system, tmp_path):
    update_source(source, actor=system, at=clock.now(), pattern="*.csv")
    skipped = [".hidden.csv", "a.csv.part", "b.csv.tmp", "c.csv.filepart", "notes.txt", "D.CSV.PART"]
    for name in skipped:
        put(inbox, name, csv_file(name))
    (inbox / "folder.csv").mkdir()
    put(inbox, "good.csv", csv_file("good-1"))
    report = collect_source(source, actor=system, at=AT)
    assert [t.name for t in report.taken] == ["good.csv"] and report.waiting == 0
    assert names(inbox) == sorted([".processing", "folder.csv", *skipped])
    assert list(UsageFile.objects.values_list("name", flat=True)) == ["good.csv"]


def test_a_bad_file_an_empty_file_and_a_duplicate_go_to_errors_with_the_reason(source, inbox, system, tmp_path):
    errors = tmp_path / "msc" / "errors"
    put(inbox, "first.csv", csv_file("x-1"), age=300)
    put(inbox, "again.csv", csv_file("x-1"), age=200)  # the same content under another name
    put(inbox, "garbage.csv", "this is not\na usage file\n", age=100)
    put(inbox, "empty.csv", b"", age=100)
    report = collect_source(source, actor=system, at=AT)
    outcomes = {t.name: t.outcome for t in report.taken}
    assert outcomes == {"first.csv": "archived", "again.csv": "error", "garbage.csv": "error", "empty.csv": "error"}
    assert names(errors) == ["again.csv", "again.csv.error.txt", "empty.csv", "empty.csv.error.txt", "garbage.csv",
                             "garbage.csv.error.txt"]
    assert "was already imported from msc (same content)" in (errors / "again.csv.error.txt").read_text()
    assert "the file is empty" in (errors / "empty.csv.error.txt").read_text()
    garbage = (errors / "garbage.csv.error.txt").read_text()
    assert "no record could be read as csv (2 failed; line 1: header: missing column" in garbage
    assert "source: alpha/msc (csv)" in garbage
    assert (errors / "garbage.csv").read_text() == "this is not\na usage file\n"
    # Only the good file is kept: the unreadable one left no file, failures or batches behind.
    assert list(UsageFile.objects.values_list("name", flat=True)) == ["first.csv"]
    assert not FailedRecord.objects.exists()
    assert RatingBatch.objects.count() == 1
    source.refresh_from_db()
    assert source.last_error.startswith("2026-10-05 23:30:00 ")
    assert "to errors" in source.last_error and "(and 2 more)" in source.last_error

    # The same name refused again gets a number, nothing is overwritten.
    put(inbox, "garbage.csv", "still\nnot usage\n")
    report = collect_source(source, actor=system, at=AT)
    assert [t.path for t in report.taken] == [str(errors / "garbage.1.csv")]
    assert (errors / "garbage.1.csv.error.txt").exists()
    assert (errors / "garbage.csv").read_text() == "this is not\na usage file\n"
    # A reason file left without its file still keeps the name taken.
    (errors / "stale.csv.error.txt").write_text("an old reason")
    put(inbox, "stale.csv", "")
    report = collect_source(source, actor=system, at=AT)
    assert [t.path for t in report.taken] == [str(errors / "stale.1.csv")]
    assert (errors / "stale.csv.error.txt").read_text() == "an old reason"


def test_the_same_name_in_the_archive_gets_a_number(source, inbox, system, tmp_path):
    put(inbox, "cdr.csv", csv_file("n-1"))
    collect_source(source, actor=system, at=AT)
    put(inbox, "cdr.csv", csv_file("n-2"))
    collect_source(source, actor=system, at=AT)
    day = tmp_path / "msc" / "archive" / "2026" / "10" / "06"
    assert names(day) == ["cdr.1.csv", "cdr.csv"]
    assert "n-1" in (day / "cdr.csv").read_text() and "n-2" in (day / "cdr.1.csv").read_text()
    assert UsageFile.objects.count() == 2


def test_a_file_left_in_processing_is_retried_without_a_second_intake(source, inbox, system, brand_a, tmp_path):
    processing = inbox / ".processing"
    processing.mkdir()
    # Taken in before the collector stopped (the import committed, the move did not happen)...
    import_usage_file(brand_a, CDRS, format="csv", source="msc", actor=system, at=clock.now(), name="cdrs.csv")
    shutil.copy(CDRS, processing / "cdrs.csv")
    # ...and claimed, but stopped before the import.
    put(processing, "claimed.csv", csv_file("c-1"))
    report = collect_source(source, actor=system, at=AT)
    taken = {t.name: (t.outcome, t.retried, t.file_id is not None) for t in report.taken}
    assert taken == {"cdrs.csv": ("archived", True, False), "claimed.csv": ("archived", True, True)}
    assert "was already taken in" in next(t for t in report.taken if t.name == "cdrs.csv").line(source)
    assert sorted(UsageFile.objects.values_list("name", flat=True)) == ["cdrs.csv", "claimed.csv"]
    assert names(processing) == []
    assert names(tmp_path / "msc" / "errors") == []
    assert names(tmp_path / "msc" / "archive" / "2026" / "10" / "06") == ["cdrs.csv", "claimed.csv"]


def test_a_claim_cut_short_between_link_and_unlink_is_taken_once(source, inbox, system):
    processing = inbox / ".processing"
    processing.mkdir()
    put(inbox, "half.csv", csv_file("h-1"))
    os.link(inbox / "half.csv", processing / "half.csv")  # the inbox name was not removed yet
    report = collect_source(source, actor=system, at=AT)
    assert [(t.name, t.outcome, t.retried) for t in report.taken] == [("half.csv", "archived", True)]
    assert names(inbox) == [".processing"] and UsageFile.objects.count() == 1


def test_rights_and_a_disabled_source(source, inbox, make_user, brand_a, system):
    viewer = make_user("vera", {brand_a: ["rating.view"]})
    put(inbox, "x.csv", csv_file("r-1"))
    with pytest.raises(PermissionDeniedError):
        collect_source(source, actor=Actor(user=viewer), at=AT)
    operator = make_user("otto", {brand_a: ["rating.view", "rating.change"]})
    update_source(source, actor=Actor(user=operator), at=clock.now(), enabled=False)
    with pytest.raises(ServiceError, match="disabled") as refused:
        collect_source(source, actor=Actor(user=operator), at=AT)
    assert refused.value.field == "enabled"
    assert (inbox / "x.csv").exists()
    update_source(source, actor=Actor(user=operator), at=clock.now(), enabled=True)
    assert collect_source(source, actor=Actor(user=operator), at=AT).archived == 1


def test_collect_all_scans_the_enabled_sources_of_every_brand(brand_a, brand_b, system, tmp_path):
    made = {}
    for brand, code, enabled in ((brand_a, "msc", True), (brand_a, "pgw", False), (brand_b, "msc", True)):
        made[brand.code, code] = create_source(brand, actor=system, at=clock.now(), code=code, format="csv",
                                               inbox=str(tmp_path / brand.code / code / "inbox"), enabled=enabled)
        folder = Path(made[brand.code, code].inbox)
        folder.mkdir(parents=True)
        put(folder, f"{brand.code}-{code}.csv", csv_file(f"{brand.code}-{code}"))
    reports = collect_all(actor=system, at=AT)
    assert [(r.source.brand.code, r.source.code, r.archived) for r in reports] == [("alpha", "msc", 1),
                                                                                   ("bravo", "msc", 1)]
    assert sorted(UsageFile.objects.values_list("brand__code", "name")) == [("alpha", "alpha-msc.csv"),
                                                                           ("bravo", "bravo-msc.csv")]
    assert (Path(made["alpha", "pgw"].inbox) / "alpha-pgw.csv").exists()
    assert collect_all(actor=system, at=AT, brand=brand_b) and len(collect_all(actor=system, at=AT, code="pgw")) == 0


def test_sources_are_validated_audited_and_need_rating_change(brand_a, system, make_user, tmp_path):
    inbox = str(tmp_path / "gw" / "in")
    source = create_source(brand_a, actor=system, at=clock.now(), code="gw1", format="ber", inbox=inbox + "/")
    assert (source.inbox, source.archive, source.errors) == (inbox, str(tmp_path / "gw" / "archive"),
                                                             str(tmp_path / "gw" / "errors"))
    assert (source.settle_seconds, source.pattern, source.enabled) == (10, "*", True)
    assert AuditEvent.objects.filter(action="create", object_type="rating.usagesource",
                                     object_id=str(source.pk)).exists()
    bad = [
        (dict(format="xml"), "format"),
        (dict(inbox="relative/in"), "inbox"),
        (dict(archive="archive"), "archive"),
        (dict(errors=str(tmp_path / "other" / "in")), "errors"),
        (dict(code="has space"), "code"),
        (dict(code="GW1"), "code"),  # already taken, whatever the case
        (dict(settle_seconds=-1), "settle_seconds"),
        (dict(pattern="a/*.csv"), "pattern"),
    ]
    for changes, field in bad:
        values = dict(code="gw2", format="csv", inbox=str(tmp_path / "other" / "in")) | changes
        with pytest.raises(ServiceError) as refused:
            create_source(brand_a, actor=system, at=clock.now(), **values)
        assert refused.value.field == field, changes
    viewer = make_user("vic", {brand_a: ["rating.view"]})
    with pytest.raises(PermissionDeniedError):
        create_source(brand_a, actor=Actor(user=viewer), at=clock.now(), code="x", format="csv", inbox=inbox)
    with pytest.raises(PermissionDeniedError):
        update_source(source, actor=Actor(user=viewer), at=clock.now(), settle_seconds=5)
    update_source(source, actor=system, at=clock.now(), settle_seconds=5, archive="")
    event = AuditEvent.objects.get(action="update", object_type="rating.usagesource", object_id=str(source.pk))
    assert event.changes == {"settle_seconds": [10, 5]}
    with pytest.raises(PermissionDeniedError):
        delete_source(source, actor=Actor(user=viewer), at=clock.now())
    pk = source.pk
    delete_source(source, actor=system, at=clock.now())
    assert not UsageSource.objects.exists()
    assert AuditEvent.objects.filter(action="delete", object_type="rating.usagesource", object_id=str(pk)).exists()


@pytest.mark.django_db(transaction=True)
def test_two_collectors_at_once_never_take_one_file_twice(make_brand, system, tmp_path):
    from django.db import connection

    brand = make_brand("alpha")
    source = create_source(brand, actor=system, at=clock.now(), code="msc", format="csv",
                           inbox=str(tmp_path / "inbox"), settle_seconds=0)
    inbox = Path(source.inbox)
    inbox.mkdir()
    for n in range(24):
        put(inbox, f"f{n:02d}.csv", csv_file(f"t-{n}"))
    start = threading.Barrier(3)
    reports, failures = [], []

    def run():
        try:
            start.wait()
            for _ in range(2):
                reports.append(collect_source(UsageSource.objects.get(pk=source.pk), actor=system, at=AT))
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    taken = [t for r in reports for t in r.taken]
    assert sorted(t.name for t in taken) == [f"f{n:02d}.csv" for n in range(24)]
    assert {t.outcome for t in taken} == {"archived"}
    assert UsageFile.objects.count() == 24
    assert len(names(tmp_path / "archive" / "2026" / "10" / "06")) == 24
    assert names(inbox) == [".processing"] and names(inbox / ".processing") == []
    assert names(tmp_path / "errors") == []
