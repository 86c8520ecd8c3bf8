"""A service task that became ready in the run of the instance's steps is `fresh`: no earlier try of it exists,
so the engine counts no tries for it and a task may skip looking up its step key. A task ready in the state the
run started from (a retry after a transient error or from the failure desk) is not fresh, and its tries count
on from the step log. A loop runs a new task each lap (its own step key, its first try)."""

from __future__ import annotations

import datetime as dt

import pytest
from workflow_samples import BEHAVIOUR, CALLS, FRESH, PING_LOOP_FLOW

from telora.core import clock
from telora.workflows.models import FlowStep, HumanTask
from telora.workflows.registry import TaskError
from telora.workflows.services import complete_task, deliver_message, publish_flow, start_instance, wake_due

pytestmark = pytest.mark.django_db


def _tries(key: str) -> list[str]:
    return [k.rsplit(":", 1)[1] for k, _fresh in FRESH if k.split(":")[1] == key.split(":")[1]]


def test_a_retried_task_is_not_fresh_and_counts_its_tries_on(frozen, flow, brand_a, system):
    BEHAVIOUR["example.reserve"].append(TaskError("timeout", "slow", transient=True))
    instance = start_instance("example_activation", brand=brand_a, data={"amount": 150}, subject_type="tests.thing",
                              subject_id="T-1", actor=system, at=clock.now())
    frozen.shift(dt.timedelta(seconds=31))
    wake_due(at=clock.now())
    first, retry = FRESH
    assert first == (f"{instance.pk}:{first[0].split(':')[1]}:1", True)  # ready in the run that started it
    assert retry == (f"{instance.pk}:{first[0].split(':')[1]}:2", False)  # ready in the state the retry read
    attempts = list(FlowStep.objects.filter(instance=instance, kind="service").values_list("attempt", flat=True))
    assert attempts == [1, 2]


def test_a_retry_from_the_failure_desk_is_not_fresh(frozen, flow, brand_a, system):
    BEHAVIOUR["example.reserve"].append(TaskError("broken", "no"))
    instance = start_instance("example_activation", brand=brand_a, data={"amount": 50}, subject_type="tests.thing",
                              subject_id="T-2", actor=system, at=clock.now())
    failure = HumanTask.objects.get(instance=instance, kind="failure")
    complete_task(failure, data={"action": "retry"}, actor=system, at=clock.now())
    assert [fresh for _key, fresh in FRESH] == [True, False]
    assert _tries(FRESH[0][0]) == ["1", "2"]


def test_each_lap_of_a_loop_runs_a_new_task_with_its_first_try(frozen, brand_a, system):
    publish_flow("ping_loop", PING_LOOP_FLOW, actor=system, at=clock.now())
    instance = start_instance("ping_loop", brand=brand_a, data={"n": 0, "order": "O-7"}, subject_type="tests.thing",
                              subject_id="T-3", actor=system, at=clock.now())
    deliver_message("ping", "T-3", {}, at=clock.now())
    deliver_message("ping", "T-3", {}, at=clock.now())
    assert [c[0] for c in CALLS] == ["example.count", "example.count"]
    (key1, fresh1), (key2, fresh2) = FRESH
    assert fresh1 and fresh2 and key1 != key2
    assert key1.endswith(":1") and key2.endswith(":1")
    steps = list(FlowStep.objects.filter(instance=instance, kind="service").values_list("task_id", "attempt"))
    assert len({task for task, _attempt in steps}) == 2 and {attempt for _task, attempt in steps} == {1}
