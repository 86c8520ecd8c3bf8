"""Provisioning against the network simulator running as its own process: retries after 5xx and
time-outs, duplicate and out-of-order callbacks, bad signatures, a worker killed between sending and
recording, and the line's sign-up provisioned through the flow end to end."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from django.urls import reverse
from provisioning_helpers import API_KEY, SECRET, configure

from telora.core import clock
from telora.provisioning import services
from telora.provisioning.models import NetworkTarget, ProvisioningExchange, ProvisioningRequest

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, seconds: float = 30.0):
    """Poll until the other processes got there (a deadline, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("not reached in time")


@pytest.fixture
def target(shop, system, netsim, live_server):
    made = configure(shop, system, url=netsim.url)
    NetworkTarget.objects.filter(pk=made.pk).update(
        callback_url=live_server.url + reverse("provisioning:callback", args=[made.pk]))
    made.refresh_from_db()
    return made


def queue(brand, system, msisdn="31610000001", key="k-1", operation="create"):
    return services.create_request(brand, operation=operation, payload={"msisdn": msisdn, "imsi": "204080000000001",
                                                                        "iccid": "8931440400000000001"},
                                   idempotency_key=key, actor=system, at=clock.now())


def state(request):
    request.refresh_from_db()
    return request.state


def test_a_request_is_accepted_then_completed_by_the_signed_callback(shop, system, netsim, target):
    request = queue(shop, system)
    assert services.send_due(at=clock.now()) == {"accepted": 1}
    assert wait_for(lambda: state(request) == "completed")
    assert request.correlation_id.startswith("NS-")
    assert [s["msisdn"] for s in netsim.subscribers()] == ["31610000001"]
    exchanges = list(request.exchanges.order_by("id"))
    assert [(x.kind, x.status_code, x.outcome) for x in exchanges] == [("request", 202, "accepted"),
                                                                        ("callback", 200, "completed")]
    assert exchanges[0].request_headers["Authorization"] == "***"  # the API key is never stored
    assert API_KEY not in json.dumps(exchanges[0].request_headers) + exchanges[0].request_body


def test_a_5xx_is_retried_after_backoff_with_the_same_key_and_makes_one_subscriber(shop, system, netsim, target):
    netsim.faults({"kind": "5xx", "times": 1})
    request = queue(shop, system)
    assert services.send_due(at=clock.now()) == {"transient": 1}
    request.refresh_from_db()
    assert (request.state, request.tries, request.error_code) == ("queued", 1, "http_503")
    assert request.next_try_at > clock.now()
    assert services.send_due(at=clock.now()) == {}  # not before its backoff
    assert services.send_due(at=request.next_try_at) == {"accepted": 1}
    assert wait_for(lambda: state(request) == "completed")
    assert len(netsim.subscribers()) == 1
    assert request.tries == 2
    assert [r["idempotency_key"] for r in netsim.requests()["requests"]] == ["k-1"]


def test_a_timeout_after_the_network_acted_is_resent_and_acts_once(shop, system, netsim, target):
    NetworkTarget.objects.filter(pk=target.pk).update(timeout_seconds=1)
    netsim.faults({"kind": "timeout", "times": 1})
    request = queue(shop, system)
    assert services.send_due(at=clock.now()) == {"transient": 1}
    request.refresh_from_db()
    assert request.error_code == "timeout"
    services.send_due(at=request.next_try_at)
    assert wait_for(lambda: state(request) == "completed")
    assert len(netsim.subscribers()) == 1
    assert len(netsim.requests()["requests"]) == 1


def test_a_business_rejection_fails_the_request_for_good(shop, system, netsim, target):
    netsim.faults({"kind": "reject", "code": "IMSI_BLOCKED", "message": "the IMSI range is blocked"})
    request = queue(shop, system)
    assert services.send_due(at=clock.now()) == {"rejected": 1}
    request.refresh_from_db()
    assert (request.state, request.error_code, request.next_try_at) == ("failed", "IMSI_BLOCKED", None)
    assert netsim.subscribers() == []


def test_a_duplicate_callback_changes_nothing_the_second_time(shop, system, netsim, target):
    netsim.faults({"kind": "duplicate_callback"})
    request = queue(shop, system)
    services.send_due(at=clock.now())
    wait_for(lambda: request.exchanges.filter(kind="callback").count() == 2)
    request.refresh_from_db()
    ended = request.completed_at
    assert request.state == "completed"
    assert list(request.exchanges.filter(kind="callback").order_by("id").values_list("outcome", flat=True)) == \
        ["completed", "ignored"]
    assert request.completed_at == ended and len(netsim.subscribers()) == 1


def test_an_out_of_order_callback_does_not_take_the_request_back(shop, system, netsim, target):
    netsim.faults({"kind": "out_of_order"})
    request = queue(shop, system)
    services.send_due(at=clock.now())
    wait_for(lambda: request.exchanges.filter(kind="callback").count() == 2)
    assert state(request) == "completed"
    assert list(request.exchanges.filter(kind="callback").order_by("id").values_list("outcome", flat=True)) == \
        ["completed", "ignored"]


def test_a_callback_with_a_bad_signature_is_refused_with_401_and_logged(client, shop, system, netsim, target):
    request = queue(shop, system)
    body = json.dumps({"idempotency_key": "k-1", "status": "completed", "correlation_id": "X"}).encode()
    stamp = str(int(time.time()))
    url = reverse("provisioning:callback", args=[target.pk])
    forged = "v1=" + hmac.new(b"not-the-secret", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    answer = client.post(url, body, content_type="application/json", HTTP_X_NETSIM_TIMESTAMP=stamp,
                         HTTP_X_NETSIM_SIGNATURE=forged)
    assert answer.status_code == 401
    assert client.post(url, body, content_type="application/json").status_code == 401  # unsigned
    assert state(request) == "queued"
    refused = ProvisioningExchange.objects.filter(target=target, outcome="refused")
    assert refused.count() == 2 and refused.first().request is None
    good = "v1=" + hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    answer = client.post(url, body, content_type="application/json", HTTP_X_NETSIM_TIMESTAMP=stamp,
                         HTTP_X_NETSIM_SIGNATURE=good)
    assert answer.status_code == 200 and state(request) == "completed"


def test_a_worker_killed_between_sending_and_recording_recovers_through_the_key(shop, system, netsim, target,
                                                                                monkeypatch):
    NetworkTarget.objects.filter(pk=target.pk).update(callback_url="http://127.0.0.1:9/nowhere/")
    request = queue(shop, system)

    def killed(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(services, "record_outcomes", killed)
    with pytest.raises(SystemExit):
        services.send_due(at=clock.now())
    monkeypatch.undo()
    request.refresh_from_db()
    assert (request.state, request.tries, request.exchanges.count()) == ("queued", 1, 0)  # sent, not recorded
    assert len(netsim.subscribers()) == 1  # the network acted
    assert services.send_due(at=clock.now()) == {}  # the lease holds it
    assert services.send_due(at=request.next_try_at) == {"accepted": 1}
    request.refresh_from_db()
    assert request.state == "acknowledged" and request.tries == 2
    assert len(netsim.subscribers()) == 1 and len(netsim.requests()["requests"]) == 1


def _sign_up(ann, system):
    from telora.orders.models import Order
    from telora.orders.services import create_order
    from telora.workflows.models import HumanTask
    from telora.workflows.services import complete_task

    order = create_order(ann, actor=system, at=clock.now(), order_type="sign_up", items=[{
        "product_offering": "MOB_POST_BASIC", "characteristics": {"service_type": "mobile_postpaid"}}])
    order.refresh_from_db()
    task = HumanTask.objects.get(instance_id=order.flow_instance_id, state="open")
    complete_task(task, data={"decision": "approved"}, actor=system, at=clock.now())
    return Order.objects.get(pk=order.pk)


def test_sign_up_provisions_automatically_on_the_simulator(ann, system, netsim, target, flows_loaded):
    from telora.orders.models import Order
    from telora.provisioning.flows import install_automatic_flows
    from telora.workflows.models import HumanTask

    assert "signup_mobile_postpaid" in install_automatic_flows(ann.brand, actor=system, at=clock.now())
    order = _sign_up(ann, system)
    request = ProvisioningRequest.objects.get(order=order)
    assert (request.operation, request.state) == ("create", "queued")
    assert request.idempotency_key.startswith(f"flow:{order.flow_instance_id}:")
    assert not HumanTask.objects.filter(instance_id=order.flow_instance_id, state="open").exists()  # no desk
    assert services.send_due(at=clock.now()) == {"accepted": 1}
    wait_for(lambda: Order.objects.get(pk=order.pk).state == "completed")
    order.refresh_from_db()
    line = order.subscription
    assert line.status == "active"
    [subscriber] = netsim.subscribers()
    assert (subscriber["msisdn"], subscriber["iccid"]) == (line.identifier, line.sim.iccid)
    assert "MOB_POST_BASIC" in subscriber["services"]


def test_a_rejected_sign_up_goes_to_the_desk_and_a_retry_there_provisions(ann, system, netsim, target, flows_loaded):
    from telora.orders.models import Order
    from telora.provisioning.flows import install_automatic_flows
    from telora.workflows.models import HumanTask
    from telora.workflows.services import complete_task

    install_automatic_flows(ann.brand, actor=system, at=clock.now())
    netsim.faults({"kind": "reject", "code": "HLR_FULL", "times": 1})
    order = _sign_up(ann, system)
    assert services.send_due(at=clock.now()) == {"rejected": 1}
    failure = wait_for(lambda: HumanTask.objects.filter(instance_id=order.flow_instance_id, state="open",
                                                        kind="failure").first())
    assert failure.desk.code == "network" and "HLR_FULL" in failure.error
    complete_task(failure, data={"action": "retry"}, actor=system, at=clock.now())
    request = ProvisioningRequest.objects.get(order=order)
    assert (request.state, request.idempotency_key.endswith(":retry1")) == ("queued", True)
    assert services.send_due(at=clock.now()) == {"accepted": 1}
    wait_for(lambda: Order.objects.get(pk=order.pk).state == "completed")
    assert len(netsim.subscribers()) == 1


def test_a_worker_sigkilled_after_sending_recovers_through_the_idempotency_key(shop, system, netsim, target):
    """A real worker process dies between the operator's answer and recording it; the request is sent again
    when its lease ends, with the same key, and the network acts once."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from django.db import connection

    NetworkTarget.objects.filter(pk=target.pk).update(callback_url="http://127.0.0.1:9/nowhere/")
    request = queue(shop, system)
    db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "PYTHONPATH": os.pathsep.join(sys.path), "DJANGO_SETTINGS_MODULE": "telora.settings"}
    worker = subprocess.Popen([sys.executable, str(Path(__file__).with_name("kill_worker.py")), str(request.pk)],
                              env=env, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert worker.stdout.readline().strip() == "sent"  # the operator answered; nothing is recorded yet
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    request.refresh_from_db()
    assert (request.state, request.tries, request.exchanges.count()) == ("queued", 1, 0)
    assert len(netsim.subscribers()) == 1
    assert services.send_due(at=request.next_try_at) == {"accepted": 1}
    request.refresh_from_db()
    assert request.state == "acknowledged" and request.correlation_id.startswith("NS-")
    assert len(netsim.subscribers()) == 1 and len(netsim.requests()["requests"]) == 1
