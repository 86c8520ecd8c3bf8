"""A worker process running a flow is SIGKILLed inside a step; resuming loses nothing and repeats nothing.

The kill lands inside the second service task without timing luck: the test holds an advisory lock the
task waits for (kill/kill_tasks.py), so the worker has committed the first step and is inside the second
step's transaction when it dies. Resuming runs the second step once; the first never runs again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from telora.core import clock
from telora.core.models import AuditEvent
from telora.workflows.models import FlowInstance, FlowStep
from telora.workflows.services import advance_instance, publish_flow

HERE = Path(__file__).resolve().parent / "kill"
sys.path.insert(0, str(HERE))
import kill_tasks  # noqa: E402


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def _query(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _waiter():
    rows = _query("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = %s "
                  "AND objid::bigint = %s AND NOT granted", kill_tasks.HOLD_LOCK)
    return rows[0][0] if rows else None


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_flow_loses_nothing_and_repeats_nothing(brand_a, system):
    publish_flow("kill_flow", (HERE / "kill_flow.bpmn").read_text(), actor=system, at=clock.now())
    db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "PYTHONPATH": os.pathsep.join(sys.path)}
    _query("SELECT pg_advisory_lock(%s, %s)", kill_tasks.HOLD_LOCK)
    worker = subprocess.Popen([sys.executable, str(HERE / "worker.py"), brand_a.code], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        assert _wait(lambda: _waiter() is not None, 120), worker.stderr.read().decode()[-2000:] \
            if worker.poll() is not None else "the worker never reached the second step"
        backend = _waiter()
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(30)
        _query("SELECT pg_terminate_backend(%s)", [backend])  # the server would notice the dead client later
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        _query("SELECT pg_advisory_unlock(%s, %s)", kill_tasks.HOLD_LOCK)

    instance = FlowInstance.objects.get(subject_id="K-1")
    assert instance.state == FlowInstance.RUNNING or instance.state == FlowInstance.WAITING
    assert list(AuditEvent.objects.filter(action__startswith="kill.").values_list("action", flat=True)) == [
        "kill.first"]  # the second step's effect died with its transaction
    assert list(FlowStep.objects.filter(instance=instance, kind="service").values_list("element", flat=True)) == [
        "first"]

    advance_instance(instance, actor=system, at=clock.now())  # what the timer job or a fresh worker does
    instance.refresh_from_db()
    assert instance.state == FlowInstance.COMPLETED
    effects = list(AuditEvent.objects.filter(action__startswith="kill.").order_by("id").values_list("action", "message"))
    assert [action for action, _ in effects] == ["kill.first", "kill.hold"]
    assert len({key for _, key in effects}) == 2
    assert list(FlowStep.objects.filter(instance=instance, kind="service").values_list("element", "attempt")) == [
        ("first", 1), ("hold", 1)]
