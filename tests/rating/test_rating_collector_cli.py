"""`telora sources` and `telora collect`, and the workers' periodic collector task."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from telora.core.models import AuditEvent
from telora.rating.models import UsageFile, UsageSource

pytestmark = pytest.mark.django_db
LINE = ("record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"
        "{id},voice,4520000001,4533123456,2026-10-05T09:15:00+02:00,60,,,DK,\n")


def put(folder: Path, name: str, record_id: str, age: float = 60) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(LINE.format(id=record_id))
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def test_sources_add_list_disable_enable_remove(brand_a, tmp_path, capsys):
    inbox = tmp_path / "msc" / "inbox"
    call_command("sources", "add", "--brand", "ALPHA", "--code", "msc", "--format", "csv", "--inbox", str(inbox),
                 "--settle", "3", "--pattern", "*.csv")
    assert capsys.readouterr().out.strip() == (f"alpha/msc: csv from {inbox} (archive {tmp_path / 'msc' / 'archive'}, "
                                               f"errors {tmp_path / 'msc' / 'errors'})")
    source = UsageSource.objects.get()
    assert (source.settle_seconds, source.pattern, source.enabled) == (3, "*.csv", True)
    event = AuditEvent.objects.get(action="create", object_type="rating.usagesource", object_id=str(source.pk))
    assert event.actor_label == "job:sources"
    call_command("sources", "list")
    assert capsys.readouterr().out.strip() == (f"alpha/msc  csv  enabled  {inbox}  pattern *.csv  settle 3s  "
                                               "never scanned")
    call_command("sources", "disable", "--brand", "alpha", "--code", "msc")
    assert capsys.readouterr().out.strip() == "alpha/msc: disabled"
    assert not UsageSource.objects.get().enabled
    call_command("sources", "enable", "--brand", "alpha", "--code", "msc")
    assert UsageSource.objects.get().enabled
    capsys.readouterr()
    call_command("sources", "remove", "--brand", "alpha", "--code", "msc")
    assert "alpha/msc: removed" in capsys.readouterr().out
    assert not UsageSource.objects.exists()
    call_command("sources", "list")
    assert capsys.readouterr().out.strip() == "no sources"


@pytest.mark.parametrize("args, message", [
    (["--brand", "NOPE", "--format", "csv", "--inbox", "/x/in"], "no brand 'NOPE'"),
    (["--brand", "alpha", "--format", "xml", "--inbox", "/x/in"], "format: unknown format 'xml'"),
    (["--brand", "alpha", "--format", "csv", "--inbox", "x/in"], "inbox: 'x/in' is not an absolute path"),
])
def test_sources_add_refusals_are_one_line(brand_a, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("sources", "add", "--code", "msc", *args)


def test_sources_unknown_code(brand_a):
    with pytest.raises(CommandError, match="alpha has no source 'nope'"):
        call_command("sources", "disable", "--brand", "alpha", "--code", "nope")


def test_collect_once_prints_a_line_per_file(brand_a, tmp_path, capsys):
    inbox = tmp_path / "msc" / "inbox"
    call_command("sources", "add", "--brand", "alpha", "--code", "msc", "--format", "csv", "--inbox", str(inbox))
    put(inbox, "a.csv", "c-1", age=120)
    put(inbox, "b.csv", "c-1", age=60)  # the same content again: refused
    put(inbox, "young.csv", "c-2", age=0)
    capsys.readouterr()
    call_command("collect", "--once")
    lines = capsys.readouterr().out.strip().splitlines()
    file_id = UsageFile.objects.get().pk
    assert len(lines) == 2
    assert lines[0].startswith(f"alpha/msc: a.csv taken in (file {file_id}, read 1) -> {tmp_path}/msc/archive/")
    assert lines[1] == (f"alpha/msc: b.csv refused: file: b.csv was already imported from msc (same content) -> "
                        f"{tmp_path}/msc/errors/b.csv")
    assert (inbox / "young.csv").exists()


def test_collect_filters_and_refusals(brand_a, brand_b, tmp_path, capsys):
    for brand in ("alpha", "bravo"):
        call_command("sources", "add", "--brand", brand, "--code", "msc", "--format", "csv", "--inbox",
                     str(tmp_path / brand / "inbox"))
        put(tmp_path / brand / "inbox", f"{brand}.csv", f"{brand}-1")
    capsys.readouterr()
    call_command("collect", "--once", "--brand", "bravo", "--source", "msc")
    assert capsys.readouterr().out.startswith("bravo/msc: bravo.csv taken in")
    assert list(UsageFile.objects.values_list("name", flat=True)) == ["bravo.csv"]
    with pytest.raises(CommandError, match="no brand 'nope'"):
        call_command("collect", "--once", "--brand", "nope")
    with pytest.raises(CommandError, match="no enabled source to collect from with code 'pgw'"):
        call_command("collect", "--once", "--source", "pgw")
    with pytest.raises(CommandError, match="--interval: must be more than 0"):
        call_command("collect", "--interval", "0")


def test_collect_loops_every_interval_until_ctrl_c(brand_a, tmp_path, capsys, monkeypatch):
    from telora.rating.management.commands import collect

    inbox = tmp_path / "msc" / "inbox"
    call_command("sources", "add", "--brand", "alpha", "--code", "msc", "--format", "csv", "--inbox", str(inbox))
    put(inbox, "first.csv", "l-1")
    sleeps = []

    def sleep(seconds):  # the second pause is interrupted (Ctrl-C); a file arrives during the first
        sleeps.append(seconds)
        if len(sleeps) == 1:
            put(inbox, "second.csv", "l-2")
        else:
            raise KeyboardInterrupt

    monkeypatch.setattr(collect.time, "sleep", sleep)
    capsys.readouterr()
    call_command("collect", "--interval", "2.5")
    lines = capsys.readouterr().out.strip().splitlines()
    assert sleeps == [2.5, 2.5]
    assert [line.split(" taken in")[0] for line in lines[:2]] == ["alpha/msc: first.csv", "alpha/msc: second.csv"]
    assert lines[2] == "collector stopped"
    assert UsageFile.objects.count() == 2


def test_the_periodic_task_runs_collect_all(brand_a, tmp_path):
    from procrastinate.contrib.django import app

    from telora.rating import jobs

    periodic = [task for task in app.periodic_registry.periodic_tasks.values()
                if task.task.name == "telora.rating.collect"]
    assert len(periodic) == 1 and periodic[0].cron == "* * * * *" and periodic[0].periodic_id == "rating-collect"
    assert jobs.collect_task.queueing_lock == "rating-collect"
    inbox = tmp_path / "msc" / "inbox"
    call_command("sources", "add", "--brand", "alpha", "--code", "msc", "--format", "csv", "--inbox", str(inbox))
    put(inbox, "tick.csv", "p-1")
    jobs.collect_task(timestamp=int(time.time()))
    usage_file = UsageFile.objects.get()
    assert usage_file.name == "tick.csv" and not (inbox / "tick.csv").exists()
    event = AuditEvent.objects.get(action="import", object_type="rating.usagefile", object_id=str(usage_file.pk))
    assert event.actor_label == "job:collector"
    assert UsageSource.objects.get().last_scan_at is not None
