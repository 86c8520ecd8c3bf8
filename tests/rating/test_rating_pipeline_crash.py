"""A worker process is SIGKILLed in the middle of a run and another one started: every record is
rated exactly once (batches commit atomically; the stalled job goes back to the queue)."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection

from telora.core import clock
from telora.rating.jobs import retry_stalled
from telora.rating.models import RatedUsage, RatingBatch, UsageFile, UsageKey
from telora.rating.services import import_usage_file

NUMBERS = [f"45200{n:05d}" for n in range(40)]
HEADER = "record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"


def _file(index: int, records: int, first_id: int) -> bytes:
    lines = [HEADER]
    for i in range(records):
        n = first_id + i
        lines.append(f"c-{n:07d},voice,{NUMBERS[n % len(NUMBERS)]},4533123456,"
                     f"2026-10-{1 + n % 28:02d}T09:{n % 60:02d}:00+02:00,{1 + n % 300},,,,\n")
    return "".join(lines).encode()


def _worker() -> subprocess.Popen:
    db = connection.settings_dict
    url = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.Popen([sys.executable, "-m", "telora.cli", "worker", "--queue", "rating"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_leaves_every_record_rated_exactly_once(nord, line_for, system):
    for number in NUMBERS:
        line_for(number)
    files = 6
    for index in range(files):
        # files overlap by a quarter: those records are duplicates, never charged twice
        import_usage_file(nord, _file(index, 8000, index * 6000), format="csv", source="msc", actor=system,
                          at=clock.now(), name=f"f{index}.csv")
    batches = RatingBatch.objects.count()
    worker = _worker()
    try:
        assert _wait(lambda: RatingBatch.objects.filter(status="done").count() >= 3, 120), "the worker rated nothing"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        done_at_kill = RatingBatch.objects.filter(status="done").count()
        assert done_at_kill < batches, "the run ended before the kill: make the files bigger"
        time.sleep(1.5)
        retry_stalled(seconds_since_heartbeat=1)
        worker = _worker()
        assert _wait(lambda: not RatingBatch.objects.filter(status="pending").exists(), 240)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
    distinct = 5 * 6000 + 8000
    assert RatedUsage.objects.count() == distinct
    assert RatedUsage.objects.values("record_id").distinct().count() == distinct
    assert UsageKey.objects.count() == distinct
    assert not RatingBatch.objects.exclude(payload=b"").exists()
    totals = [(f.read, f.rated + f.duplicate, f.failed) for f in UsageFile.objects.all()]
    assert all(read == taken and failed == 0 for read, taken, failed in totals)
    assert sum(f.duplicate for f in UsageFile.objects.all()) == files * 8000 - distinct
