"""Scenario tests of the standard flows on the workflow engine, on a frozen clock: the branches (credit
refused, not available, lost or stolen), the desks, the timers (escalation, porting date, notice period,
installation day), the compensation of a cancelled order, and the letters a flow sends."""

import datetime as dt

import pytest
from django.apps import apps

from telora.core import clock

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept"),
              pytest.mark.skipif(not apps.is_installed("telora.workflows"), reason="needs the workflow engine")]
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


def open_task(order):
    from telora.workflows.models import HumanTask

    return HumanTask.objects.select_related("desk").get(instance_id=order.flow_instance_id, state="open")


def complete(order, **data):
    from telora.workflows.services import complete_task

    task = open_task(order)
    complete_task(task, data=data, actor=order._actor, at=clock.now())
    order.refresh_from_db()
    return task


def new_order(customer, system, order_type, **values):
    from telora.orders.services import create_order

    order = create_order(customer, actor=system, at=clock.now(), order_type=order_type, **values)
    order.refresh_from_db()
    order._actor = system
    return order


def steps(order, kind):
    from telora.workflows.models import FlowStep

    return list(FlowStep.objects.filter(instance_id=order.flow_instance_id, kind=kind).values_list("element", flat=True))


def signup(ann, system, service_type="mobile_postpaid", plan="MOB_POST_BASIC", **extra):
    return new_order(ann, system, "sign_up", items=[{"product_offering": plan, "characteristics": {
        "service_type": service_type, **extra}}])


def stock(brand):
    from telora.inventory.models import PhoneNumber, SimCard

    return (sorted(SimCard.objects.filter(brand=brand).values_list("status", flat=True)),
            sorted(PhoneNumber.objects.filter(brand=brand).values_list("status", flat=True)))


def test_postpaid_credit_refused_fails_with_the_reason_and_takes_nothing(frozen, ann, system, flows_loaded):
    from telora.customers.models import Subscription

    before = stock(ann.brand)
    order = signup(ann, system)
    assert open_task(order).desk.code == "credit"
    complete(order, decision="refused", refusal_reason="unpaid debts elsewhere")
    assert order.state == "failed" and "unpaid debts elsewhere" in order.state_reason
    assert "Credit refused" in order.state_reason
    assert stock(ann.brand) == before and not Subscription.objects.filter(customer=ann).exists()
    assert order.entries.filter(kind="failed").exists()


def test_postpaid_credit_check_escalates_after_two_business_days(frozen, ann, system, flows_loaded):
    from telora.workflows.services import wake_due

    frozen.move_to(START + dt.timedelta(days=4), tick=False)  # Friday 10:00 in Amsterdam
    order = signup(ann, system)
    first = open_task(order)
    # due in 4 working hours: Friday 14:00 local
    assert first.due_at == START + dt.timedelta(days=4, hours=4)
    frozen.shift(dt.timedelta(days=2, minutes=1))  # Sunday: two calendar days, no business day yet
    wake_due(at=clock.now())
    first.refresh_from_db()
    assert first.state == "open"
    frozen.shift(dt.timedelta(days=2))  # Tuesday 10:01 local: two business days
    wake_due(at=clock.now())
    first.refresh_from_db()
    task = open_task(order)
    assert first.state == "cancelled" and (task.name, task.desk.code) == ("Credit check (escalated)", "retention")
    complete(order, decision="approved")
    assert open_task(order).name == "Activate at the host operator"


def test_postpaid_signup_sends_the_welcome_letter_through_the_letters_outbox(frozen, ann, system, flows_loaded):
    from telora.letters.models import Letter
    from telora.letters.services.defaults import install_defaults

    install_defaults(ann.brand, actor=system, at=clock.now())
    order = signup(ann, system)
    complete(order, decision="approved")
    complete(order, host_reference="HOST-7")
    assert order.state == "completed"
    letter = Letter.objects.get(brand=ann.brand, idempotency_key=f"order:{order.pk}:welcome")
    assert letter.customer_id == ann.pk and letter.template.code == "welcome" and "Ann" in letter.text
    assert order.entries.filter(kind="letter", message__contains="queued").exists()


def test_cancelling_a_signup_after_allocation_undoes_every_step(frozen, ann, system, flows_loaded):
    """SIM and number back in stock, the pending line removed, the order cancelled, the compensation logged."""
    from telora.customers.models import Subscription
    from telora.orders.services import cancel_order

    before = stock(ann.brand)
    order = signup(ann, system)
    complete(order, decision="approved")
    assert open_task(order).name == "Activate at the host operator"
    line = order.subscription
    assert line.status == "pending" and stock(ann.brand) != before
    cancel_order(order, actor=system, at=clock.now(), reason="customer changed their mind")
    order.refresh_from_db()
    assert order.state == "cancelled" and order.subscription_id is None
    assert not Subscription.objects.filter(pk=line.pk).exists()
    assert stock(ann.brand) == before
    assert steps(order, "compensate") == ["create_line", "allocate_number", "allocate_sim"]
    assert open_task_count(order) == 0


def open_task_count(order):
    from telora.workflows.models import HumanTask

    return HumanTask.objects.filter(instance_id=order.flow_instance_id, state__in=("open", "claimed")).count()


def test_prepaid_signup_has_no_credit_check_and_a_starting_balance(frozen, ann, system, flows_loaded):
    from telora.rating.services.balances import balance_of

    order = signup(ann, system, "mobile_prepaid", "MOB_PRE", starting_balance="25.00")
    assert open_task(order).name == "Activate at the host operator"
    complete(order, host_reference="H-1")
    assert order.state == "completed" and order.subscription.status == "active"
    assert balance_of(order.subscription) == 25


def test_fiber_signup_qualifies_books_ships_and_installs_on_the_day(frozen, ann, system, flows_loaded):
    from telora.workflows.services import wake_due

    order = signup(ann, system, "fiber", "FIBER_500", identifier="CIRCUIT-1")
    assert open_task(order).desk.code == "qualification"
    complete(order, qualification="qualified", max_speed_mbit="1000")
    assert open_task(order).desk.code == "installation"
    complete(order, appointment_date="2026-03-10", time_slot="morning")
    assert open_task(order).desk.code == "logistics"  # fiber needs equipment
    complete(order, cpe_serial="CPE-1")
    assert open_task_count(order) == 0 and order.state == "inProgress"  # waits for the appointment date
    frozen.move_to(dt.datetime(2026, 3, 10, 0, 1, tzinfo=dt.UTC), tick=False)
    wake_due(at=clock.now())
    task = complete(order, installed="on")
    assert task.name == "Install and test at the premises"
    assert order.state == "completed" and order.subscription.status == "active"


def test_fixed_signup_not_available_fails_with_the_reason(frozen, ann, system, flows_loaded):
    order = signup(ann, system, "fiber", "FIBER_500", identifier="CIRCUIT-2")
    complete(order, qualification="unqualified", refusal_reason="no fiber in the street")
    assert order.state == "failed" and "no fiber in the street" in order.state_reason


def test_voip_signup_sets_up_the_sip_account(frozen, ann, system, flows_loaded):
    order = signup(ann, system, "voip", "VOIP_LINE")
    assert open_task(order).name == "Set up the SIP account"
    complete(order, sip_account="sip:ann@example.net")
    assert order.state == "completed" and order.subscription.status == "active"


def test_cancelling_a_plan_change_at_the_network_desk_restores_the_plan(frozen, ann, mobile, system, flows_loaded):
    from telora.customers.models import ProductInstance
    from telora.orders.services import cancel_order

    order = new_order(ann, system, "change_plan", subscription=mobile, items=[{"product_offering": "MOB_POST_10GB"}])
    frozen.shift(dt.timedelta(hours=1))
    cancel_order(order, actor=system, at=clock.now(), reason="wrong plan")
    plan = ProductInstance.objects.get(subscription=mobile, kind="plan", end_at__isnull=True)
    assert plan.product.code == "MOB_POST_BASIC" and steps(order, "compensate") == ["do_change_plan"]


@pytest.mark.parametrize("reason,blocked", [("lost", True), ("broken", False)])
def test_sim_swap_blocks_a_lost_card_first(frozen, ann, mobile, system, flows_loaded, reason, blocked):
    old = mobile.sim
    order = new_order(ann, system, "swap_sim", subscription=mobile, items=[{"characteristics": {"reason": reason}}])
    old.refresh_from_db()
    assert (old.status == "blocked") is blocked
    assert open_task(order).desk.code == "logistics"
    complete(order, tracking="TRACK-1")
    assert open_task(order).name == "Change the SIM at the host operator"
    complete(order)
    mobile.refresh_from_db()
    assert order.state == "completed" and mobile.sim_id != old.pk


def test_cancelling_a_lost_card_swap_unblocks_the_card(frozen, ann, mobile, system, flows_loaded):
    from telora.orders.services import cancel_order

    order = new_order(ann, system, "swap_sim", subscription=mobile, items=[{"characteristics": {"reason": "stolen"}}])
    cancel_order(order, actor=system, at=clock.now(), reason="found it")
    mobile.sim.refresh_from_db()
    assert mobile.sim.status == "allocated" and steps(order, "compensate") == ["block_sim"]


def test_cancellation_within_the_commitment_charges_the_fee_after_the_notice(frozen, ann, mobile, system,
                                                                             flows_loaded):
    from telora.catalog.models import Product
    from telora.customers import services as customers
    from telora.customers.models import ProductInstance
    from telora.inventory.models import PhoneNumber
    from telora.letters.models import Letter
    from telora.letters.services.defaults import install_defaults
    from telora.workflows.services import wake_due

    install_defaults(ann.brand, actor=system, at=clock.now())  # as the demo and `telora letters defaults` do
    customers.change_plan(mobile, "MOB_POST_10GB", actor=system, at=clock.now())
    Product.objects.create(brand=ann.brand, code="EARLY_TERMINATION", name="Early termination", kind="one_time",
                           valid_from=dt.date(2024, 1, 1))
    order = new_order(ann, system, "terminate", subscription=mobile,
                      items=[{"characteristics": {"reason": "moving", "notice_days": 30}}])
    assert open_task(order).desk.code == "retention"
    complete(order)  # the fee stands
    assert ProductInstance.objects.filter(subscription=mobile, product__code="EARLY_TERMINATION").exists()
    mobile.refresh_from_db()
    assert mobile.status == "active" and order.state == "inProgress"  # the notice period runs
    frozen.shift(dt.timedelta(days=30, minutes=1))
    wake_due(at=clock.now())
    order.refresh_from_db()
    mobile.refresh_from_db()
    assert order.state == "completed" and mobile.status == "terminated"
    assert PhoneNumber.objects.get(pk=mobile.phone_number_id).status == "quarantined"
    letter = Letter.objects.get(brand=ann.brand, idempotency_key=f"order:{order.pk}:final")  # queued, not skipped
    assert letter.customer_id == ann.pk and letter.template.code == "final" and letter.state != "failed"
    assert mobile.identifier in letter.text and "has ended" in letter.text
    assert order.entries.filter(kind="letter", message__contains="letter final queued").exists()


def test_cancellation_out_of_commitment_with_no_notice_ends_at_once(frozen, ann, mobile, system, flows_loaded):
    order = new_order(ann, system, "terminate", subscription=mobile, items=[{"characteristics": {"reason": "x"}}])
    mobile.refresh_from_db()
    assert order.state == "completed" and mobile.status == "terminated"


def test_suspend_and_resume_and_add_ons(frozen, ann, mobile, system, flows_loaded):
    from telora.customers.models import ProductInstance

    assert new_order(ann, system, "suspend", subscription=mobile,
                     items=[{"characteristics": {"reason": "travel"}}]).state == "completed"
    mobile.refresh_from_db()
    assert mobile.status == "suspended"
    assert new_order(ann, system, "resume", subscription=mobile).state == "completed"
    addon = ProductInstance.objects.get(subscription=mobile, product__code="ROAM_EU_5GB")
    assert new_order(ann, system, "remove_addon", subscription=mobile,
                     items=[{"characteristics": {"instance": addon.pk}}]).state == "completed"
    assert new_order(ann, system, "add_addon", subscription=mobile,
                     items=[{"product_offering": "ROAM_EU_5GB"}]).state == "completed"
    mobile.refresh_from_db()
    assert mobile.status == "active"


def test_a_cancelled_orders_item_follows_the_compensation(frozen, ann, mobile, system, flows_loaded, api_for,
                                                           make_user):
    """The plan changed (the item completed), the order is cancelled at the network desk: the old plan is
    back and the item says so, on the order page and in TMF622 (item state cancelled, not completed)."""
    from gui_helpers import login
    from telora.orders.services import cancel_order

    order = new_order(ann, system, "change_plan", subscription=mobile, items=[{"product_offering": "MOB_POST_10GB"}])
    item = order.items.get()
    assert item.state == "completed" and order.state == "inProgress"
    cancel_order(order, actor=system, at=clock.now(), reason="wrong plan")
    item.refresh_from_db()
    assert item.state == "cancelled"
    assert [u["step"] for u in item.result["undone"]] == ["Change the plan: the old plan again"]
    api = api_for({ann.brand: ["orders.view", "customers.view"]})
    body = api.get(f"/tmf-api/productOrderingManagement/v4/productOrder/{order.pk}").json()
    assert body["state"] == "cancelled" and [i["state"] for i in body["productOrderItem"]] == ["cancelled"]
    viewer = make_user("vic", {ann.brand: ["orders.view", "customers.view"]})
    page = login(viewer, ann.brand).get(f"/orders/{order.pk}/").content.decode()
    assert 'data-testid="item-undone"' in page and "the old plan again" in page
    assert 'data-state="completed"' not in page.split('data-testid="order-items"')[1].split("</table>")[0]


def test_a_failed_signups_undone_item_fails_with_it(frozen, ann, system, flows_loaded, monkeypatch):
    """The host refuses the activation (a permanent failure, no failure desk): the flow fails, its line and
    reservations are undone, and the item that had completed fails with its order."""
    from telora.core.services.actors import ServiceError
    from telora.orders import operations

    def refuse(item, *, actor, at):
        raise ServiceError("the host operator refused the line", field="subscription")

    order = signup(ann, system)
    complete(order, decision="approved")
    assert order.items.get().state == "completed"  # the pending line was created
    monkeypatch.setitem(operations.OPERATIONS, "activate", refuse)
    complete(order, host_reference="H-2")
    item = order.items.get()
    assert (order.state, item.state, item.subscription_id) == ("failed", "failed", None)
    assert [u["step"].split(":")[0] for u in item.result["undone"]] == [
        "Create the line of a sign-up (pending until activated)", "Reserve a number for the customer",
        "Reserve a SIM card for the customer"]


def _numbers(brand):
    from telora.inventory.models import PhoneNumber

    return {n.number: n.status for n in PhoneNumber.objects.filter(brand=brand)}


def test_number_change_reserves_switches_at_the_host_and_quarantines_the_old_number(frozen, ann, mobile, system,
                                                                                   flows_loaded):
    """The next free number is reserved at once; after the network desk switched it at the host operator, the
    line takes it, the old number goes to quarantine and the number history shows both, on the hour."""
    from telora.customers.models import NumberAssignment
    from telora.customers.services.subscriptions import reservation_reference

    old = mobile.identifier
    order = new_order(ann, system, "number_change", subscription=mobile,
                      items=[{"characteristics": {"reason": "unwanted calls"}}])
    task = open_task(order)
    assert (task.name, task.desk.code) == ("Switch the number at the host operator", "network")
    new = order.items.get().characteristics["number"]
    held = _numbers(ann.brand)
    assert new != old and held[new] == "reserved" and held[old] == "allocated"
    assert order.items.get().result == {} and mobile.identifier == old  # nothing switched before the host did
    frozen.shift(dt.timedelta(hours=2))
    complete(order, host_reference="HOST-N1")
    mobile.refresh_from_db()
    assert order.state == "completed" and mobile.identifier == new and mobile.phone_number.number == new
    held = _numbers(ann.brand)
    assert (held[new], held[old]) == ("allocated", "quarantined")
    history = list(NumberAssignment.objects.filter(subscription=mobile).order_by("valid_from")
                   .values_list("number", "valid_from", "valid_to"))
    switched = START + dt.timedelta(hours=2)
    assert history[-2:] == [(old, history[-2][1], switched), (new, switched, None)]
    assert order.items.get().result == {"number": new, "old_number": old}
    from telora.inventory.models import PhoneNumber
    assert PhoneNumber.objects.get(brand=ann.brand, number=new).reserved_for == reservation_reference(ann)


def test_number_change_takes_the_number_the_csr_chose_and_cancelling_at_the_desk_frees_it(
        frozen, ann, mobile, system, flows_loaded):
    from telora.orders.services import cancel_order

    free = sorted(n for n, status in _numbers(ann.brand).items() if status == "available")
    chosen = free[-1]
    order = new_order(ann, system, "number_change", subscription=mobile, items=[{"characteristics": {
        "number": f"+{chosen}"}}])
    assert order.items.get().characteristics["number"] == chosen and _numbers(ann.brand)[chosen] == "reserved"
    cancel_order(order, actor=system, at=clock.now(), reason="keeps the old one")
    mobile.refresh_from_db()
    assert _numbers(ann.brand)[chosen] == "available" and mobile.identifier != chosen
    assert steps(order, "compensate") == ["reserve_number"] and order.items.get().state == "cancelled"


def test_number_change_undo_gives_the_old_number_back(frozen, ann, mobile, system, flows_loaded):
    """The undo of the switch (a later step failing, a flow that is aborted): the old number comes back out of
    quarantine, the new one goes to quarantine, and the history keeps every move."""
    from telora.customers.models import NumberAssignment
    from telora.workflows.models import FlowInstance
    from telora.workflows.services import compensate

    old = mobile.identifier
    order = new_order(ann, system, "number_change", subscription=mobile)
    complete(order)
    mobile.refresh_from_db()
    new = mobile.identifier
    frozen.shift(dt.timedelta(minutes=30))
    instance = FlowInstance.objects.get(pk=order.flow_instance_id)
    assert compensate(instance, actor=system, at=clock.now()) == 2  # the switch, then the reservation (a no-op)
    mobile.refresh_from_db()
    held = _numbers(ann.brand)
    assert (mobile.identifier, held[old], held[new]) == (old, "allocated", "quarantined")
    numbers = list(NumberAssignment.objects.filter(subscription=mobile).order_by("valid_from", "id")
                   .values_list("number", "valid_to"))
    assert [n for n, _ in numbers] == [old, new, old] and numbers[-1][1] is None
