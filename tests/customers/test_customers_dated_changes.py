"""Dated changes: selling, add-ons, plan changes and terminations as of a past moment (API and CLI),
with their own right and a `backdate` audit event."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from telora.core import clock
from telora.core.models import AuditEvent
from telora.customers import services as s
from telora.customers.models import Subscription
from telora.inventory.models import PhoneNumber

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept")]
SUBS = "/api/v1/subscriptions"
CHANGE = ["customers.view", "customers.change"]


def sell(api, ann, **values):
    body = {"customer": ann.pk, "billing_account": ann.accounts.get().pk, "service_type": "mobile_postpaid",
            "plan": "MOB_POST_BASIC", **values}
    return api.post(SUBS, body)


def days_ago(n: int) -> dt.datetime:
    return (clock.now() - dt.timedelta(days=n)).replace(microsecond=0)


def test_a_back_dated_change_needs_its_own_right(api_for, shop, ann):
    csr = api_for({shop: CHANGE})
    refused = sell(csr, ann, effective_at=days_ago(10).isoformat())
    assert refused.status_code == 403 and "customers.backdate" in refused.json()["message"]
    assert not Subscription.objects.exists()
    assert sell(csr, ann).status_code == 201  # now is still fine without it


def test_a_line_sold_and_changed_with_its_history(api_for, shop, ann):
    api = api_for({shop: CHANGE + ["customers.backdate"]})
    sold_at, plan_at, addon_at, end_at = days_ago(90), days_ago(60), days_ago(40), days_ago(20)
    sold = sell(api, ann, effective_at=sold_at.isoformat())
    assert sold.status_code == 201, sold.json()
    sub = sold.json()
    assert [dt.datetime.fromisoformat(p["start_at"]) for p in sub["products"]] == [sold_at]
    url = f"{SUBS}/{sub['id']}"
    assert api.post(f"{url}/change-plan", {"plan": "MOB_POST_10GB", "effective_at": plan_at.isoformat()}).status_code == 200
    addon = api.post(f"{url}/addons", {"product": "DATA_S", "effective_at": addon_at.isoformat()}).json()
    assert dt.datetime.fromisoformat(addon["start_at"]) == addon_at
    ended = api.delete(f"{url}/addons/{addon['id']}?effective_at={end_at.isoformat().replace('+', '%2B')}")
    assert ended.status_code == 200, ended.json()
    products = {(p["product"], p["start_at"], p["end_at"]) for p in ended.json()["products"]}
    assert ("MOB_POST_BASIC", sold_at.isoformat().replace("+00:00", "Z"), plan_at.isoformat().replace("+00:00", "Z")) in {
        (a, b.replace("+00:00", "Z"), c and c.replace("+00:00", "Z")) for a, b, c in products}
    assert ("DATA_S", addon_at, end_at) in {(a, dt.datetime.fromisoformat(b), c and dt.datetime.fromisoformat(c))
                                            for a, b, c in products}
    backdates = AuditEvent.objects.filter(action="backdate").order_by("id")
    assert backdates.count() == 4
    assert all(e.at > end_at and e.changes["effective_at"][1] for e in backdates)  # entered now, effective then


@pytest.fixture
def month_old(ann, system):
    """A postpaid line of ann sold 30 days ago."""
    return s.create_subscription(ann, actor=system, at=days_ago(30), billing_account=ann.accounts.get(),
                                 service_type="mobile_postpaid", plan="MOB_POST_BASIC")


def test_a_termination_as_of_last_tuesday(api_for, shop, ann, month_old):
    mobile = month_old
    api = api_for({shop: CHANGE + ["customers.backdate"]})
    tuesday = days_ago(6)
    ended = api.post(f"{SUBS}/{mobile.pk}/terminate", {"reason": "moved", "effective_at": tuesday.isoformat()})
    assert ended.status_code == 200, ended.json()
    assert dt.datetime.fromisoformat(ended.json()["terminated_at"]) == tuesday
    assert PhoneNumber.objects.get(pk=mobile.phone_number_id).status == "quarantined"
    event = AuditEvent.objects.get(action="backdate", object_id=str(mobile.pk))
    assert event.message.startswith("back-dated change, effective")


def test_dated_changes_are_bounded_and_in_order(api_for, shop, ann, mobile, settings):
    api = api_for({shop: CHANGE + ["customers.backdate"]})
    url = f"{SUBS}/{mobile.pk}"
    future = api.post(f"{url}/terminate", {"effective_at": (clock.now() + dt.timedelta(days=3)).isoformat()})
    assert future.status_code == 400 and future.json()["field"] == "effective_at"
    settings.TELORA_BACKDATE_MAX_DAYS = 30
    too_old = api.post(f"{url}/terminate", {"effective_at": days_ago(31).isoformat()})
    assert too_old.status_code == 400 and "30 days" in too_old.json()["message"]
    before_sale = api.post(f"{url}/terminate", {"effective_at": days_ago(2).isoformat()})
    assert before_sale.status_code == 400 and "before the subscription's last change" in before_sale.json()["message"]
    mobile.refresh_from_db()
    assert mobile.status == "active"


def test_the_cli_enters_dated_changes(ann, month_old):
    mobile, out = month_old, io.StringIO()
    at = {n: days_ago(n) for n in (20, 15, 10, 5, 3)}  # read once: the clock runs while the commands do
    call_command("subscription", "change-plan", str(mobile.pk), "MOB_POST_10GB", "--at", at[20].isoformat(),
                 stdout=out)
    call_command("subscription", "add-addon", str(mobile.pk), "DATA_S", "--at", at[15].isoformat(), stdout=out)
    call_command("subscription", "end-addon", str(mobile.pk), "DATA_S", "--at", at[10].isoformat(), stdout=out)
    call_command("subscription", "terminate", str(mobile.pk), "--at", at[5].isoformat(), stdout=out)
    mobile.refresh_from_db()
    assert mobile.status == "terminated" and mobile.terminated_at == at[5]
    data_s = mobile.products.get(product__code="DATA_S")
    assert (data_s.start_at, data_s.end_at) == (at[15], at[10])
    assert AuditEvent.objects.filter(action="backdate", actor_label="job:subscription").count() == 4
    sold = io.StringIO()
    call_command("subscription", "sell", "--customer", ann.number, "--service-type", "mobile_postpaid",
                 "--plan", "MOB_POST_BASIC", "--at", at[3].isoformat(), stdout=sold)
    new = Subscription.objects.exclude(pk=mobile.pk).get()
    assert f"Sold subscription {new.pk}" in sold.getvalue()
    assert new.products.get().start_at == at[3]


def test_the_cli_refuses_bad_input_with_one_line(ann, mobile):
    with pytest.raises(CommandError, match="--at: give a time zone offset"):
        call_command("subscription", "terminate", str(mobile.pk), "--at", "2026-01-01T00:00:00")
    with pytest.raises(CommandError, match="no subscription 999999"):
        call_command("subscription", "terminate", "999999")
    with pytest.raises(CommandError, match="a change in the future"):
        call_command("subscription", "terminate", str(mobile.pk), "--at",
                     (clock.now() + dt.timedelta(days=2)).isoformat())
    with pytest.raises(CommandError, match="--customer: no customer 'X9'"):
        call_command("subscription", "sell", "--customer", "X9", "--service-type", "mobile_postpaid", "--plan", "P")
    mobile.refresh_from_db()
    assert mobile.status == "active"
