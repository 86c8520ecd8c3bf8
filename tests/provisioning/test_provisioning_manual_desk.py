"""The manual adapter's work on the workflows desk: a request sent to a manual target opens a desk task at
the target's desk; completing it (the operator's reference) or rejecting it (the reason) records the outcome
as the request page does; answering on the page closes the task; the periodic pass opens a missing one once;
a flow's request to a manual target goes on through the desk. And a line's provisioning history on its
subscription page."""

from __future__ import annotations

import pytest
from provisioning_helpers import configure

from gui_helpers import login
from telora.core import clock
from telora.core.services import Actor
from telora.customers import services as s
from telora.provisioning import manual, services
from telora.provisioning.models import ProvisioningRequest
from telora.workflows.models import FlowInstance, HumanTask
from telora.workflows.services import cancel_instance, complete_task

pytestmark = pytest.mark.django_db


def queue(brand, system, key, *, subscription=None, operation="create"):
    payload = {"msisdn": subscription.identifier if subscription else "31610000001", "pin1": "1234"}
    return services.create_request(brand, operation=operation, payload=payload, idempotency_key=key,
                                   subscription=subscription, actor=system, at=clock.now())


@pytest.fixture
def line(ann, system):
    return s.create_subscription(ann, actor=system, at=clock.now(), billing_account=ann.accounts.get(),
                                 service_type="mobile_postpaid", plan="MOB_POST_BASIC")


@pytest.fixture
def worker(ann, make_user):
    return make_user("wes", {ann.brand: ["workflows.view", "workflows.work", "provisioning.view",
                                         "provisioning.work", "customers.view"]})


def sent_to_desk(ann, system, line, key="m-1"):
    configure(ann.brand, system, adapter="manual")
    request = queue(ann.brand, system, key, subscription=line)
    assert services.send_due(at=clock.now()) == {"waiting": 1}
    request.refresh_from_db()
    return request, HumanTask.objects.get(instance__subject_type=manual.SUBJECT, instance__subject_id=str(request.pk),
                                          state="open")


def test_a_manual_request_waits_on_the_targets_desk_and_completing_it_records_the_outcome(ann, system, line,
                                                                                        worker):
    request, task = sent_to_desk(ann, system, line)
    assert request.state == "sent"
    assert (task.desk.code, task.element, task.due_at is not None) == ("network", manual.TASK_ELEMENT, True)
    assert line.identifier in task.subject_label and ann.name in task.subject_label
    title, url, facts = manual.describe(task.instance)
    assert url == f"/provisioning/{request.pk}/" and ("Number", line.identifier) in facts
    assert "1234" not in str(facts)  # the SIM's PIN is masked beside the task too
    page = login(worker, ann.brand).get(f"/workflows/tasks/{task.pk}/")
    assert page.status_code == 200
    assert line.identifier in page.content.decode() and f"/provisioning/{request.pk}/" in page.content.decode()
    with pytest.raises(Exception, match="required"):
        complete_task(task, data={}, actor=Actor(user=worker), at=clock.now())  # done needs the reference
    complete_task(task, data={"reference": "HOST-9"}, actor=Actor(user=worker), at=clock.now())
    request.refresh_from_db()
    assert (request.state, request.correlation_id) == ("completed", "HOST-9")
    assert '"by": "wes"' in request.exchanges.filter(kind="manual").last().request_body
    task.instance.refresh_from_db()
    assert task.instance.state == FlowInstance.COMPLETED


def test_rejecting_the_desk_task_fails_the_request_with_the_reason(ann, system, line, worker):
    request, task = sent_to_desk(ann, system, line)
    complete_task(task, data={}, reject_reason="the operator's portal refuses the ICCID", actor=Actor(user=worker),
                  at=clock.now())
    request.refresh_from_db()
    assert (request.state, request.error) == ("failed", "the operator's portal refuses the ICCID")


def test_answering_on_the_request_page_closes_the_desk_task(ann, system, line, worker):
    request, task = sent_to_desk(ann, system, line)
    client = login(worker, ann.brand)
    page = client.get(f"/provisioning/{request.pk}/").content.decode()
    assert "request-desk-task" in page and f"/workflows/tasks/{task.pk}/" in page
    client.post(f"/provisioning/{request.pk}/manual/", {"outcome": "completed", "reference": "HOST-1"})
    request.refresh_from_db()
    task.refresh_from_db()
    assert request.state == "completed" and task.state == HumanTask.CANCELLED
    assert "wes" in task.reason
    assert "request-desk-task" not in client.get(f"/provisioning/{request.pk}/").content.decode()


def test_a_desk_task_that_cannot_be_opened_leaves_the_request_in_the_log(ann, system, line, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the flow cannot start")

    monkeypatch.setattr(manual, "ensure_flow", broken)
    configure(ann.brand, system, adapter="manual")
    request = queue(ann.brand, system, "b-1", subscription=line)
    assert services.send_due(at=clock.now()) == {"waiting": 1}
    request.refresh_from_db()
    assert request.state == "sent" and not FlowInstance.objects.filter(subject_id=str(request.pk)).exists()
    monkeypatch.undo()
    assert manual.open_missing(at=clock.now()) == 1  # the periodic job's pass


def test_the_periodic_pass_opens_a_missing_desk_task_once(ann, system, line):
    request, task = sent_to_desk(ann, system, line)
    assert manual.open_missing(at=clock.now()) == 0  # it has one
    cancel_instance(task.instance, reason="lost", actor=system, at=clock.now())
    assert manual.open_missing(at=clock.now(), brand_ids=[ann.brand.pk + 1000]) == 0  # another brand's pass
    assert manual.open_missing(at=clock.now()) == 1
    assert manual.open_missing(at=clock.now()) == 0
    assert HumanTask.objects.filter(instance__subject_id=str(request.pk), state="open").count() == 1


def test_the_targets_flow_is_published_once_kept_when_edited_and_follows_the_desk(ann, system):
    from telora.workflows.models import Desk, FlowVersion
    from telora.workflows.services import publish_flow

    target = configure(ann.brand, system, adapter="manual")
    first = manual.ensure_flow(target, actor=system, at=clock.now())
    assert manual.ensure_flow(target, actor=system, at=clock.now()) == first
    edited = publish_flow(manual.flow_key(target), manual.flow_xml(target).replace('telora:due="P1D"',
                                                                                     'telora:due="PT4H"'),
                          brand=ann.brand, actor=system, at=clock.now())
    assert manual.ensure_flow(target, actor=system, at=clock.now()) == edited  # the operator's edit stays
    target = services.configure_target(ann.brand, adapter="manual", desk="hlr-team", actor=system, at=clock.now())
    moved = manual.ensure_flow(target, actor=system, at=clock.now())
    assert moved.number == 3 and moved.extensions[manual.TASK_ELEMENT]["desk"] == "hlr-team"
    assert Desk.objects.filter(brand=ann.brand, code="hlr-team").exists()  # created with the flow
    assert FlowVersion.objects.filter(definition__key=manual.flow_key(target)).count() == 3


def test_another_brand_cannot_see_the_desk_task(ann, brand_b, system, line, make_user):
    _request, task = sent_to_desk(ann, system, line)
    other = login(make_user("bea", {brand_b: ["workflows.view", "workflows.work"]}), brand_b)
    assert other.get(f"/workflows/tasks/{task.pk}/").status_code == 404


def test_a_flows_request_to_a_manual_target_goes_on_through_the_desk(ann, system, flows_loaded, worker,
                                                                    django_capture_on_commit_callbacks):
    from telora.orders.services import create_order
    from telora.provisioning.flows import install_automatic_flows

    configure(ann.brand, system)
    install_automatic_flows(ann.brand, actor=system, at=clock.now())
    configure(ann.brand, system, adapter="manual")  # the operator's API is down: people do it meanwhile
    order = create_order(ann, actor=system, at=clock.now(), order_type="sign_up", items=[{
        "product_offering": "MOB_POST_BASIC", "characteristics": {"service_type": "mobile_postpaid"}}])
    order.refresh_from_db()
    complete_task(HumanTask.objects.get(instance_id=order.flow_instance_id, state="open"),
                  data={"decision": "approved"}, actor=system, at=clock.now())
    request = ProvisioningRequest.objects.get(order=order)
    services.send_due(at=clock.now())
    task = HumanTask.objects.get(instance__subject_id=str(request.pk), state="open")
    assert task.desk.code == "network"
    with django_capture_on_commit_callbacks(execute=True):
        complete_task(task, data={"reference": "HOST-42"}, actor=Actor(user=worker), at=clock.now())
    request.refresh_from_db()
    order.refresh_from_db()
    assert request.state == "completed" and request.notified_at is not None  # the order's flow was told
    line = order.items.get().subscription or order.subscription
    line.refresh_from_db()
    assert line.status == "active"


def test_the_subscription_page_shows_the_lines_provisioning_history(ann, system, line, make_user, worker):
    request, task = sent_to_desk(ann, system, line)
    done = queue(ann.brand, system, "h-2", subscription=line, operation="bar")
    services.complete_by_hand(done, reference="HOST-B", actor=system, at=clock.now())
    reader = login(worker, ann.brand)
    page = reader.get(f"/customers/subscriptions/{line.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "line-provisioning" in html
    assert f"/provisioning/{request.pk}/" in html and f"/provisioning/{done.pk}/" in html and "HOST-B" in html
    assert f"/workflows/tasks/{task.pk}/" in html  # the waiting one links to its desk task
    tab = reader.get(f"/customers/{line.customer_id}/", {"tab": "provisioning"}).content.decode()
    assert f"/workflows/tasks/{task.pk}/" in tab  # the customer's Provisioning tab links it too
    logged = reader.get("/provisioning/", {"subscription": line.pk}).context["object_list"]
    assert {r.pk for r in logged} == {request.pk, done.pk}
    csr = login(make_user("cas", {ann.brand: ["customers.view"]}), ann.brand)
    assert "line-provisioning" not in csr.get(f"/customers/subscriptions/{line.pk}/").content.decode()
