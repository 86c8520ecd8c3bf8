"""A subscription over time: plan changes, add-ons, suspend, resume, terminate, and the number history."""

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, transaction

from telora.core.models import AuditEvent
from telora.core.services.actors import ServiceError
from telora.customers import services as s
from telora.customers.models import NumberAssignment
from telora.customers.selectors import (
    holders_of_number,
    number_history,
    product_history,
    products_on,
    subscription_for_number,
)
from telora.inventory.models import PhoneNumber, SimCard
from telora.inventory.services import end_quarantine

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept")]
T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def later(days=0, hours=0):
    return T0 + dt.timedelta(days=days, hours=hours)


@pytest.fixture
def line(ann, system):
    return s.create_subscription(ann, actor=system, at=T0, billing_account=ann.accounts.get(),
                                 service_type="mobile_postpaid", plan="MOB_POST_BASIC", addons=["ROAM_EU_5GB"])


def codes(subscription, at):
    return [i.product.code for i in products_on(subscription, at)]


def test_changing_plan_ends_the_old_and_starts_the_new_at_the_same_moment(line, system):
    moment = later(days=10)
    new = s.change_plan(line, "MOB_POST_10GB", actor=system, at=moment)
    old = line.products.get(product__code="MOB_POST_BASIC")
    assert (old.end_at, old.end_reason) == (moment, "plan_change")
    assert new.start_at == moment and new.end_at is None
    assert codes(line, moment - dt.timedelta(seconds=1)) == ["MOB_POST_BASIC", "ROAM_EU_5GB"]
    assert codes(line, moment) == ["MOB_POST_10GB", "ROAM_EU_5GB"]
    line.refresh_from_db()
    assert line.commitment_end.date() == dt.date(2025, 9, 11)  # six months from the change, brand time
    event = AuditEvent.objects.get(object_type="customers.subscription", action="change_plan")
    assert event.changes["plan"] == ["MOB_POST_BASIC", "MOB_POST_10GB"]
    with pytest.raises(ServiceError, match="plan: MOB_POST_10GB is the current plan already"):
        s.change_plan(line, "MOB_POST_10GB", actor=system, at=later(days=11))
    with pytest.raises(ServiceError, match="plan: MOB_PRE is for mobile_prepaid subscriptions"):
        s.change_plan(line, "MOB_PRE", actor=system, at=later(days=11))


def test_a_later_commitment_is_kept_when_changing_to_a_plan_without_one(ann, system):
    sub = s.create_subscription(ann, actor=system, at=T0, billing_account=ann.accounts.get(),
                                service_type="mobile_postpaid", plan="MOB_POST_10GB")
    ends = sub.commitment_end
    s.change_plan(sub, "MOB_POST_BASIC", actor=system, at=later(days=1))
    sub.refresh_from_db()
    assert sub.commitment_end == ends


def test_add_ons_come_and_go_within_the_rules(line, system):
    with pytest.raises(ServiceError, match="products: DATA_L excludes ROAM_EU_5GB"):
        s.add_addon(line, "DATA_L", actor=system, at=later(days=1))
    boost = s.add_addon(line, "DATA_S", actor=system, at=later(days=1))
    with pytest.raises(ServiceError, match=r"products: DATA_S allows at most 1 of DATA_L, DATA_S \(found 2\)"):
        s.add_addon(line, "DATA_S", actor=system, at=later(days=2))
    with pytest.raises(ServiceError, match="product: MOB_POST_10GB is a plan, not an add-on"):
        s.add_addon(line, "MOB_POST_10GB", actor=system, at=later(days=2))
    removed = s.remove_addon(line, boost, actor=system, at=later(days=3))
    assert (removed.start_at, removed.end_at, removed.end_reason) == (later(days=1), later(days=3), "removed")
    assert codes(line, later(days=2)) == ["MOB_POST_BASIC", "ROAM_EU_5GB", "DATA_S"]
    assert codes(line, later(days=3)) == ["MOB_POST_BASIC", "ROAM_EU_5GB"]
    with pytest.raises(ServiceError, match=f"instance: no add-on {boost.pk} is on this subscription now"):
        s.remove_addon(line, boost.pk, actor=system, at=later(days=4))
    plan = line.products.get(kind="plan")
    with pytest.raises(ServiceError, match="is a plan, not an add-on; change the plan instead"):
        s.remove_addon(line, plan, actor=system, at=later(days=4))
    actions = list(AuditEvent.objects.filter(object_type="customers.subscription").values_list("action", flat=True))
    assert {"add_addon", "remove_addon"} <= set(actions)


def test_removing_an_add_on_others_need_is_refused(ann, system):
    sub = s.create_subscription(ann, actor=system, at=T0, billing_account=ann.accounts.get(),
                                service_type="mobile_prepaid", plan="MOB_PRE")
    with pytest.raises(ServiceError, match="products: ROAM_EU_5GB requires one of MOB_POST_10GB, MOB_POST_BASIC"):
        s.add_addon(sub, "ROAM_EU_5GB", actor=system, at=later(days=1))


def test_one_time_products_are_a_moment(line, system):
    sold = s.add_one_time(line, "SIM_REPLACEMENT", actor=system, at=later(days=5))
    assert sold.start_at == sold.end_at == later(days=5) and sold.end_reason == "once"
    assert "SIM_REPLACEMENT" in [i.product.code for i in product_history(line)]
    assert "SIM_REPLACEMENT" not in codes(line, later(days=5))


def test_suspend_resume_terminate_with_dates_and_audit(line, system):
    s.suspend_subscription(line, actor=system, at=later(days=30), reason="unpaid invoice")
    line.refresh_from_db()
    assert (line.status, line.suspended_at, line.status_reason) == ("suspended", later(days=30), "unpaid invoice")
    with pytest.raises(ServiceError, match="status: the subscription is suspended and cannot become suspended"):
        s.suspend_subscription(line, actor=system, at=later(days=31))
    s.resume_subscription(line, actor=system, at=later(days=32))
    line.refresh_from_db()
    assert (line.status, line.suspended_at) == ("active", None)
    with pytest.raises(ServiceError, match="status: the subscription is active, not suspended"):
        s.resume_subscription(line, actor=system, at=later(days=33))
    number, sim = line.phone_number, line.sim
    s.terminate_subscription(line, actor=system, at=later(days=40), reason="moved abroad")
    line.refresh_from_db()
    assert (line.status, line.terminated_at, line.activated_at) == ("terminated", later(days=40), T0)
    assert all(i.end_at == later(days=40) and i.end_reason == "terminated" for i in line.products.all())
    assert NumberAssignment.objects.get(subscription=line).valid_to == later(days=40)
    number.refresh_from_db()
    assert number.status == "quarantined" and number.quarantine_until == later(days=130)
    assert SimCard.objects.get(pk=sim.pk).status == "retired"
    actions = list(AuditEvent.objects.filter(object_type="customers.subscription", object_id=str(line.pk))
                   .order_by("at", "id").values_list("action", flat=True))
    assert actions == ["create", "suspend", "resume", "terminate"]
    terminate = AuditEvent.objects.get(object_type="customers.subscription", action="terminate")
    assert terminate.changes["status"] == ["active", "terminated"] and terminate.message == "moved abroad"
    with pytest.raises(ServiceError, match="status: the subscription is terminated"):
        s.add_addon(line, "DATA_S", actor=system, at=later(days=41))


def test_changes_happen_in_order(line, system):
    s.suspend_subscription(line, actor=system, at=later(days=5))
    with pytest.raises(ServiceError, match="at: 2025-03-03 09:00:00 is before the subscription's last change"):
        s.resume_subscription(line, actor=system, at=later(days=2))


def test_a_pending_subscription_starts_counting_when_activated(ann, system):
    sub = s.create_subscription(ann, actor=system, at=T0, billing_account=ann.accounts.get(),
                                service_type="mobile_postpaid", plan="MOB_POST_10GB", activate=False)
    assert (sub.status, sub.activated_at, sub.commitment_end) == ("pending", None, None)
    s.activate_subscription(sub, actor=system, at=later(days=3))
    sub.refresh_from_db()
    assert sub.status == "active" and sub.activated_at == later(days=3)
    assert sub.products.get().start_at == later(days=3)
    assert NumberAssignment.objects.get(subscription=sub).valid_from == later(days=3)
    assert sub.commitment_end.date() == dt.date(2025, 9, 4)


def test_cancelling_a_pending_subscription_returns_its_sim_to_stock(ann, system):
    sub = s.create_subscription(ann, actor=system, at=T0, billing_account=ann.accounts.get(),
                                service_type="mobile_prepaid", plan="MOB_PRE", activate=False)
    s.terminate_subscription(sub, actor=system, at=later(hours=1), reason="order cancelled")
    assert SimCard.objects.get(pk=sub.sim_id).status == "available"
    assert PhoneNumber.objects.get(pk=sub.phone_number_id).status == "quarantined"


def test_discarding_a_line_that_never_went_live_puts_sim_and_number_back(ann, line, system):
    pending = s.create_subscription(ann, actor=system, at=T0, billing_account=ann.accounts.get(),
                                    service_type="mobile_postpaid", plan="MOB_POST_BASIC", activate=False)
    sim, number = pending.sim, pending.phone_number
    s.discard_subscription(pending, actor=system, at=later(1), reason="order cancelled")
    sim.refresh_from_db()
    number.refresh_from_db()
    assert (sim.status, number.status) == ("available", "available")
    assert not type(pending).objects.filter(pk=pending.pk).exists()
    assert AuditEvent.objects.filter(action="delete", object_id=str(pending.pk), message="order cancelled").exists()
    with pytest.raises(ServiceError) as refused:  # a line that went live is terminated, never removed
        s.discard_subscription(line, actor=system, at=later(1))
    assert refused.value.field == "status"


def test_swapping_a_sim_retires_the_old_card(line, system):
    old = line.sim
    s.swap_sim(line, actor=system, at=later(days=2), reason="lost")
    line.refresh_from_db()
    assert line.sim != old and line.sim.status == "allocated"
    assert SimCard.objects.get(pk=old.pk).status == "retired"


def test_a_reassigned_number_belongs_to_the_right_subscription_at_each_moment(ann, shop, system):
    first = s.create_subscription(ann, actor=system, at=T0, billing_account=ann.accounts.get(),
                                  service_type="mobile_postpaid", plan="MOB_POST_BASIC", number="+31610000002")
    s.terminate_subscription(first, actor=system, at=later(days=100))
    with time_machine.travel(later(days=300), tick=False):
        end_quarantine(shop, "+31610000002", actor=system, at=later(days=300))
    bob = s.create_customer(shop, actor=system, at=later(days=300), kind="private", last_name="Bakker",
                            email="bob@example.com")
    account = s.create_billing_account(bob, actor=system, at=later(days=300))
    second = s.create_subscription(bob, actor=system, at=later(days=301), billing_account=account,
                                   service_type="mobile_prepaid", plan="MOB_PRE", number="0610000002")
    ask = subscription_for_number
    assert ask(shop, "+31610000002", T0 - dt.timedelta(seconds=1)) is None
    assert ask(shop, "+31610000002", T0) == first
    assert ask(shop, "0031610000002", later(days=99)) == first
    assert ask(shop, "31610000002", later(days=100)) is None  # the end is exclusive
    assert ask(shop, "31610000002", later(days=200)) is None
    assert ask(shop, "31610000002", later(days=301)) == second
    assert ask(shop, "31610000002", later(days=9999)) == second
    assert [a.subscription for a in holders_of_number(shop, "+31 6 10000002")] == [second, first]
    assert [a.valid_to for a in number_history(first)] == [later(days=100)]


def test_the_database_never_lets_two_subscriptions_hold_a_number_at_once(line, ann, system):
    other = s.create_subscription(ann, actor=system, at=T0, billing_account=ann.accounts.get(),
                                  service_type="mobile_prepaid", plan="MOB_PRE")
    with pytest.raises(IntegrityError), transaction.atomic():
        NumberAssignment.objects.create(brand=ann.brand, subscription=other, number=line.identifier,
                                        valid_from=later(days=500))
    NumberAssignment.objects.create(brand=ann.brand, subscription=other, number=line.identifier,
                                    valid_from=later(days=-10), valid_to=T0)  # touching, not overlapping
