"""The circuit breaker per target against the simulator (a separate process): it opens after failures in
a row or a failure rate, holds the queued requests without taking their tries, lets one probe through
after the cool-down and closes on its success (audited, with domain events), shared by every worker
through its row; and the lost callbacks found by polling the operator."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from provisioning_helpers import configure

from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services import ServiceError
from telora.events.models import Event
from telora.provisioning import breaker, services
from telora.provisioning.models import NetworkTarget, ProvisioningRequest, TargetReliability
from telora.provisioning.polling import poll_lost

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def target(shop, system, netsim, live_server):
    made = configure(shop, system, url=netsim.url)
    NetworkTarget.objects.filter(pk=made.pk).update(
        callback_url=live_server.url + reverse("provisioning:callback", args=[made.pk]))
    made.refresh_from_db()
    breaker.configure(made, failure_threshold=3, cooldown_seconds=30, actor=system, at=clock.now())
    return made


def queue_many(brand, system, count, prefix="3161000"):
    return [services.create_request(brand, operation="create", payload={"msisdn": f"{prefix}{n:04d}"},
                                    idempotency_key=f"b-{prefix}-{n}", actor=system, at=clock.now())
            for n in range(count)]


def row(target):
    return TargetReliability.objects.get(target=target)


def wait_for(condition, seconds: float = 30.0):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("not reached in time")


def test_failures_in_a_row_open_the_breaker_and_the_rest_is_held_without_taking_tries(shop, system, netsim, target):
    netsim.faults({"kind": "5xx", "times": 100})
    requests = queue_many(shop, system, 10)
    now = clock.now()
    assert services.send_due(at=now, concurrency=1) == {"transient": 3, "held": 7}
    state = row(target)
    assert (state.state, state.retry_at) == ("open", now + dt.timedelta(seconds=30))
    assert "http_503" in state.last_error
    tried = ProvisioningRequest.objects.filter(pk__in=[r.pk for r in requests], tries=1)
    held = ProvisioningRequest.objects.filter(pk__in=[r.pk for r in requests], tries=0)
    assert (tried.count(), held.count()) == (3, 7)
    assert set(held.values_list("state", "next_try_at")) == {("queued", state.retry_at)}  # the half-open time
    assert not exchanges_of(held)  # nothing on the wire for them
    assert Event.objects.filter(type="provisioning.target_down", subject_id=str(target.pk)).count() == 1
    assert AuditEvent.objects.filter(object_type="provisioning.networktarget", object_id=str(target.pk),
                                     message__startswith="circuit breaker opened").exists()
    # another worker (another call) sends nothing before the cool-down ends, even the tries' own backoff
    assert services.send_due(at=now + dt.timedelta(seconds=29), concurrency=1) == {}
    assert exchanges_of(ProvisioningRequest.objects.all()).count() == 3


def exchanges_of(queryset):
    from telora.provisioning.models import ProvisioningExchange

    return ProvisioningExchange.objects.filter(request__in=queryset)


def test_after_the_cool_down_one_probe_goes_and_its_success_closes_the_breaker(shop, system, netsim, target):
    netsim.faults({"kind": "5xx", "times": 3})
    queue_many(shop, system, 6)
    now = clock.now()
    assert services.send_due(at=now, concurrency=1) == {"transient": 3, "held": 3}
    opened = row(target).retry_at
    counts = services.send_due(at=opened, concurrency=1)  # the probe succeeds: the rest goes in the same run
    assert counts == {"accepted": 6}
    assert row(target).state == "closed"
    assert ProvisioningRequest.objects.filter(state="queued").count() == 0
    assert Event.objects.filter(type="provisioning.target_up").count() == 1
    wait_for(lambda: ProvisioningRequest.objects.filter(state="completed").count() == 6)
    assert len(netsim.subscribers()) == 6
    assert len(netsim.requests()["requests"]) == 6  # each key carried out once


def test_a_failed_probe_opens_the_breaker_again_and_nothing_else_is_sent(shop, system, netsim, target):
    netsim.faults({"kind": "5xx", "times": 100})
    queue_many(shop, system, 6)
    services.send_due(at=clock.now(), concurrency=1)
    first = row(target).retry_at
    assert services.send_due(at=first, concurrency=1) == {"transient": 1}  # the probe only
    again = row(target)
    assert (again.state, again.retry_at) == ("open", first + dt.timedelta(seconds=30))
    # the 3 never sent are still untried: the probe was one of the 3 tried before (its try taken again)
    assert ProvisioningRequest.objects.filter(tries=0).count() == 3
    assert Event.objects.filter(type="provisioning.target_down").count() == 1  # announced once


def test_a_failure_rate_over_the_window_opens_the_breaker(shop, system, netsim, target):
    breaker.configure(target, failure_threshold=50, failure_rate=40, window_size=10, actor=system, at=clock.now())
    netsim.faults(*[{"kind": "5xx", "times": 1, "msisdn": f"3161000{n:04d}"} for n in range(0, 10, 2)])
    queue_many(shop, system, 12)
    counts = services.send_due(at=clock.now(), concurrency=1)
    assert counts["transient"] == 5 and row(target).state == "open"


def test_the_single_send_job_holds_a_request_of_an_open_target(shop, system, netsim, target):
    netsim.faults({"kind": "5xx", "times": 100})
    first, second, third, late = queue_many(shop, system, 4)
    services.send_due(at=clock.now(), concurrency=1)
    late.refresh_from_db()
    retry_at = row(target).retry_at
    assert services.send_request(late.pk, at=retry_at - dt.timedelta(seconds=1)) == ""  # not due (held)
    ProvisioningRequest.objects.filter(pk=late.pk).update(next_try_at=clock.now())
    assert services.send_request(late.pk, at=clock.now()) == "held"
    late.refresh_from_db()
    assert (late.state, late.tries, late.next_try_at) == ("queued", 0, retry_at)


def test_the_settings_are_bounded_and_a_person_may_close_the_breaker(shop, system, netsim, target):
    with pytest.raises(ServiceError) as error:
        breaker.configure(target, cooldown_seconds=1, actor=system, at=clock.now())
    assert error.value.field == "cooldown_seconds"
    netsim.faults({"kind": "5xx", "times": 3})
    queue_many(shop, system, 5)
    services.send_due(at=clock.now(), concurrency=1)
    breaker.close_by_hand(target, actor=system, at=clock.now())
    assert row(target).state == "closed"
    # every request the breaker held goes now (the 2 never sent, and the 3 whose backoff it stretched)
    assert services.send_due(at=clock.now(), concurrency=1) == {"accepted": 5}


# --- lost callbacks ---------------------------------------------------------------------------------------

def test_a_lost_callback_is_found_by_polling_the_operator(shop, system, netsim, target):
    netsim.faults({"kind": "lost_callback"})
    [request] = queue_many(shop, system, 1)
    assert services.send_due(at=clock.now()) == {"accepted": 1}
    request.refresh_from_db()
    assert request.state == "acknowledged"
    assert poll_lost(at=clock.now()) == {}  # not silent long enough
    later = clock.now() + dt.timedelta(seconds=301)
    assert poll_lost(at=later) == {"completed": 1}
    request.refresh_from_db()
    assert (request.state, request.result["msisdn"]) == ("completed", "31610000000")
    poll = request.exchanges.get(kind="poll")
    assert poll.status_code == 200 and poll.request_headers["Authorization"] == "***"
    assert netsim.requests()["callbacks_sent"] == 0


def test_a_request_the_operator_never_took_is_sent_again_with_its_key(shop, system, netsim, target):
    [request] = queue_many(shop, system, 1)
    ProvisioningRequest.objects.filter(pk=request.pk).update(state="acknowledged", tries=1,
                                                             updated_at=clock.now() - dt.timedelta(hours=1))
    assert poll_lost(at=clock.now()) == {"unknown": 1}
    request.refresh_from_db()
    assert (request.state, request.error_code) == ("queued", "unknown_at_target")
    assert services.send_due(at=clock.now()) == {"accepted": 1}
    wait_for(lambda: ProvisioningRequest.objects.get(pk=request.pk).state == "completed")
    assert [r["idempotency_key"] for r in netsim.requests()["requests"]] == [request.idempotency_key]


def test_a_rejected_request_polled_reads_as_failed(shop, system, netsim, target):
    from telora.provisioning.adapters import get_adapter

    netsim.faults({"kind": "reject", "code": "IMSI_BLOCKED"})
    [request] = queue_many(shop, system, 1)
    assert services.send_due(at=clock.now()) == {"rejected": 1}
    request.refresh_from_db()
    answer = get_adapter("mvne_json").poll(request, services.credentials(target))
    assert (answer.kind, answer.code) == ("rejected", "IMSI_BLOCKED")


def test_a_request_without_a_final_answer_for_too_long_fails(shop, system, target):
    NetworkTarget.objects.filter(pk=target.pk).update(url="http://127.0.0.1:9/")  # nobody answers the poll
    [request] = queue_many(shop, system, 1)
    long_ago = clock.now() - dt.timedelta(hours=25)
    ProvisioningRequest.objects.filter(pk=request.pk).update(state="acknowledged", acknowledged_at=long_ago,
                                                             updated_at=long_ago)
    assert poll_lost(at=clock.now()) == {"given_up": 1}
    request.refresh_from_db()
    assert (request.state, request.error_code) == ("failed", "no_final_answer")
