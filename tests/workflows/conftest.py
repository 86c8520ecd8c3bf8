"""Workflow fixtures: the example flow published, desks, a frozen clock (the service tasks are in workflow_samples)."""

from __future__ import annotations

import pytest
from workflow_samples import BEHAVIOUR, CALLS, FLOW, FRESH, START

from telora.core import clock


@pytest.fixture(autouse=True)
def _reset_behaviour():
    for key in BEHAVIOUR:
        BEHAVIOUR[key].clear()
    CALLS.clear()
    FRESH.clear()
    yield


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def desks(brand_a, system):
    from telora.workflows.services import create_desk

    return {code: create_desk(brand_a, code, code.title(), actor=system, at=clock.now())
            for code in ("backoffice", "supervisors")}


@pytest.fixture
def flow(desks, system):
    from telora.workflows.services import publish_flow

    return publish_flow("example_activation", FLOW.read_text(), actor=system, at=clock.now())

