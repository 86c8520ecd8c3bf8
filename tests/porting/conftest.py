"""Porting fixtures: the clearing-house simulator (`python -m telora.porting.portsim`) as a separate process
on a free port, brand_a's shop with the standard flows and desks, and its clearing house."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from porting_helpers import API_KEY, DESKS, SECRET, Portsim, make_customer, make_shop

from telora.core import clock


@pytest.fixture
def portsim(tmp_path):
    """The simulator as its own process; stopped (by its pid) after the test."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "telora.porting.portsim", "--port", "0", "--dir", str(tmp_path / "portsim"),
         "--api-key", API_KEY, "--secret", SECRET, "--latency", "0.05"], stdout=subprocess.PIPE, text=True, env=env)
    line = process.stdout.readline()
    assert line.startswith("portsim listening on "), line
    yield Portsim(process, line.split()[-1])
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def shop(brand_a, system):
    return make_shop(brand_a, system, ("+31 6 10000001", "+31 6 10000002", "+31 6 10000003"), "8931440400", 0)


@pytest.fixture
def ann(shop, system):
    return make_customer(shop, system, "Ann")


@pytest.fixture
def flows_loaded(ann, system):
    from telora.orders.flows import FLOW_DIR
    from telora.workflows.services.flows import create_desk, load_flows

    for code in DESKS:
        create_desk(ann.brand, code, code.title(), actor=system, at=clock.now())
    load_flows(FLOW_DIR, actor=system, at=clock.now())
