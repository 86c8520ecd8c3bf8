"""Customer and subscription services say what happened: one domain event per change, written in
the change's transaction (a refused change leaves none)."""

import datetime as dt

import pytest

from telora.core.services.actors import ServiceError
from telora.customers import services as s
from telora.events.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept")]
T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def later(days):
    return T0 + dt.timedelta(days=days)


def last(type_):
    return Event.objects.filter(type=type_).latest("id")


def test_creating_and_changing_a_customer(shop, system):
    customer = s.create_customer(shop, actor=system, at=T0, kind="private", first_name="Bo", last_name="Jansen",
                                 email="bo@example.com")
    created = last("customer.created")
    assert (created.subject_type, created.subject_id, created.brand_id) == ("customers.customer", str(customer.pk),
                                                                           shop.pk)
    assert created.payload == {"customer_id": customer.pk, "number": customer.number, "kind": "private"}
    assert created.at == T0 and created.actor_label == "job:tests"
    s.update_customer(customer, actor=system, at=later(1), email="bo.jansen@example.com")
    changed = last("customer.changed")
    assert changed.payload["changed"] == ["email"] and changed.payload["customer_id"] == customer.pk
    s.update_customer(customer, actor=system, at=later(2), email="bo.jansen@example.com")  # no change, no event
    assert Event.objects.filter(type="customer.changed").count() == 1


def test_a_subscriptions_life_is_told_in_events(ann, system):
    line = s.create_subscription(ann, actor=system, at=T0, billing_account=ann.accounts.get(),
                                 service_type="mobile_postpaid", plan="MOB_POST_BASIC", addons=["ROAM_EU_5GB"])
    activated = last("subscription.activated")
    assert activated.subject_id == str(line.pk)
    assert activated.payload["plan"] == "MOB_POST_BASIC" and activated.payload["customer_id"] == ann.pk
    assert activated.payload["status"] == "active" and activated.payload["identifier"] == line.identifier

    s.change_plan(line, "MOB_POST_10GB", actor=system, at=later(1))
    changed = last("subscription.plan_changed")
    assert (changed.payload["old_plan"], changed.payload["plan"]) == ("MOB_POST_BASIC", "MOB_POST_10GB")

    addon = s.add_addon(line, "DATA_S", actor=system, at=later(2))
    assert last("subscription.addon_added").payload["addon"] == "DATA_S"
    s.remove_addon(line, addon, actor=system, at=later(3))
    assert last("subscription.addon_removed").payload["instance_id"] == addon.pk

    old_iccid = line.sim.iccid
    s.swap_sim(line, actor=system, at=later(4), reason="lost")
    line.refresh_from_db()
    swapped = last("subscription.sim_swapped")
    assert (swapped.payload["old_iccid"], swapped.payload["iccid"]) == (old_iccid, line.sim.iccid)

    s.suspend_subscription(line, actor=system, at=later(5), reason="unpaid")
    assert last("subscription.suspended").payload["reason"] == "unpaid"
    s.resume_subscription(line, actor=system, at=later(6))
    assert last("subscription.resumed").payload["status"] == "active"
    s.terminate_subscription(line, actor=system, at=later(7), reason="moved abroad")
    ended = last("subscription.terminated")
    assert ended.payload["status"] == "terminated" and ended.at == later(7)
    assert list(Event.objects.filter(subject_id=str(line.pk), subject_type="customers.subscription")
                .order_by("id").values_list("type", flat=True)) == [
        "subscription.activated", "subscription.plan_changed", "subscription.addon_added",
        "subscription.addon_removed", "subscription.sim_swapped", "subscription.suspended",
        "subscription.resumed", "subscription.terminated"]


def test_a_refused_change_leaves_no_event(mobile, system):
    before = Event.objects.count()
    with pytest.raises(ServiceError):
        s.change_plan(mobile, "MOB_POST_BASIC", actor=system, at=later(400))  # already the plan
    with pytest.raises(ServiceError):
        s.resume_subscription(mobile, actor=system, at=later(400))  # not suspended
    assert Event.objects.count() == before
