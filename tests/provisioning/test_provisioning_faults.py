"""Fault injection end to end against the simulator (a separate process): many lines created, then barred,
then some unbarred, under time-outs, 5xx, duplicate, out-of-order and lost callbacks. After draining
(the send job, the polls, time moved on for the backoffs), every line is in the right state at the
network, every request completed, and the simulator's own request log shows each idempotency key
carried out once."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.urls import reverse
from provisioning_helpers import configure

from telora.core import clock
from telora.provisioning import services
from telora.provisioning.models import NetworkTarget, ProvisioningRequest
from telora.provisioning.polling import poll_lost

pytestmark = pytest.mark.django_db(transaction=True)

LINES = 30
FAULTS = ("5xx", "timeout", "duplicate_callback", "out_of_order", "lost_callback", None)


@pytest.fixture
def target(shop, system, netsim, live_server):
    made = configure(shop, system, url=netsim.url, timeout_seconds=1)
    NetworkTarget.objects.filter(pk=made.pk).update(
        callback_url=live_server.url + reverse("provisioning:callback", args=[made.pk]))
    made.refresh_from_db()
    return made


def msisdn(n: int) -> str:
    return f"3162000{n:04d}"


def inject(netsim, operation: str, numbers) -> None:
    """One fault per line, the kinds taking turns (a line of each sixth has none)."""
    faults = [{"kind": FAULTS[n % len(FAULTS)], "times": 1, "operation": operation, "msisdn": msisdn(n)}
              for n in numbers if FAULTS[n % len(FAULTS)]]
    netsim.faults(*faults)


def queue(brand, system, operation: str, numbers) -> None:
    for n in numbers:
        services.create_request(brand, operation=operation, payload={"msisdn": msisdn(n), "iccid": f"89314404{n:011d}",
                                                                     "imsi": f"20408{n:010d}"},
                                idempotency_key=f"{operation}:{n}", actor=system, at=clock.now())


def drain(brand, *, rounds: int = 40) -> dt.datetime:
    """Send, let the callbacks come, poll the silent ones, move time on for the backoffs; until nothing is
    open. Returns the moment reached."""
    at = clock.now()
    for _ in range(rounds):
        services.send_due(at=at)
        waiting, deadline = -1, time.monotonic() + 10
        while time.monotonic() < deadline:  # the callbacks on their way (the lost ones never come): until
            now_waiting = ProvisioningRequest.objects.filter(state="acknowledged").count()  # none came for a while
            if now_waiting in (0, waiting):
                break
            waiting = now_waiting
            time.sleep(0.5)
        poll_lost(at=at + dt.timedelta(minutes=10))
        if not ProvisioningRequest.objects.filter(brand=brand, state__in=("queued", "sent", "acknowledged")).exists():
            return at
        at += dt.timedelta(hours=2)
    raise AssertionError("not drained")


def test_every_line_ends_right_at_the_network_and_no_key_is_carried_out_twice(shop, system, netsim, target):
    everyone = range(LINES)
    inject(netsim, "create", everyone)
    queue(shop, system, "create", everyone)
    drain(shop)
    odd = [n for n in everyone if n % 2]
    inject(netsim, "bar", odd)
    queue(shop, system, "bar", odd)
    drain(shop)
    back = [n for n in odd if n % 4 == 1]
    inject(netsim, "unbar", back)
    queue(shop, system, "unbar", back)
    drain(shop)

    requests = ProvisioningRequest.objects.filter(brand=shop)
    assert requests.count() == LINES + len(odd) + len(back)
    assert set(requests.values_list("state", flat=True)) == {"completed"}
    at_network = {s["msisdn"]: s for s in netsim.subscribers()}
    assert sorted(at_network) == [msisdn(n) for n in everyone]
    assert {n for n in everyone if at_network[msisdn(n)]["barred"]} == {n for n in odd if n % 4 == 3}
    log = netsim.requests()["requests"]
    keys = [r["idempotency_key"] for r in log]
    assert len(keys) == len(set(keys)) == requests.count()  # each key carried out once
    assert {r["status"] for r in log} == {202}  # none refused (SUBSCRIBER_EXISTS would say a double create)
    # the faults were met: retried tries, ignored duplicates and stale callbacks, polled lost callbacks
    assert requests.filter(tries__gt=1).count() >= 2 * (LINES // len(FAULTS))
    exchanges = {(x.kind, x.outcome) for r in requests for x in r.exchanges.all()}
    assert {("callback", "ignored"), ("poll", "completed"), ("request", "transient")} <= exchanges
