"""A subscription's rated usage on screen: the current month in the brand's timezone by default,
another month or from/to days, rows formatted for people, totals per service, pages, and for a
prepaid line the balance, its ledger and a top-up (rating.change); reached from the subscription's
Usage tab; rating.view in the subscription's brand or a 404."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from rating_helpers import CDRS

from gui_helpers import login
from telora.core import clock
from telora.core.models import AuditEvent
from telora.rating.models import PrepaidBalance
from telora.rating.services import import_usage_file, rate_pending
from telora.rating.services.balances import top_up

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]

CPH = ZoneInfo("Europe/Copenhagen")
NOW = dt.datetime(2026, 10, 20, 10, 0, tzinfo=dt.UTC)
VIEW = ["rating.view"]
HEADER = b"record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"


@pytest.fixture
def postpaid(nord, line_for, system, time_machine):
    """4520000001 (postpaid) with the nine rated records of cdrs.csv, on 2026-10-20."""
    time_machine.move_to(NOW)
    sub = line_for("4520000001")
    import_usage_file(nord, CDRS, format="csv", source="nord-msc", actor=system, at=clock.now(), defer=False)
    rate_pending(nord)
    return sub


@pytest.fixture
def prepaid(nord, line_for, system, time_machine):
    """4520000003 (MOB_PRE) topped up 10.50, then one SMS at 0.39."""
    time_machine.move_to(NOW)
    sub = line_for("4520000003", plan="MOB_PRE")
    top_up(sub, Decimal("10.50"), actor=system, at=clock.now(), reference="voucher 1")
    import_usage_file(nord, HEADER + b"p-1,sms,4520000003,4533123456,2026-10-05T09:15:00+02:00,,,1,,\n",
                      format="csv", source="msc", actor=system, at=clock.now(), name="p.csv", defer=False)
    rate_pending(nord)
    return sub


def page(client, sub, query=""):
    return client.get(reverse("rating:subscription_usage", args=[sub.pk]) + (f"?{query}" if query else ""))


def test_the_current_month_with_rows_and_totals(make_user, nord, postpaid):
    client = login(make_user("vera", {nord: VIEW}), nord)
    response = page(client, postpaid)
    assert response.status_code == 200
    assert response.context["start"] == dt.datetime(2026, 10, 1, tzinfo=CPH)
    assert response.context["month"] == (2026, 10)
    rows = {row["usage"].record_id: row for row in response.context["rows"]}
    assert len(rows) == 9
    assert (rows["nord-0001"]["used"], rows["nord-0001"]["quantity"], rows["nord-0001"]["charge"]) == (
        "2:05", "2:05", "0.625")
    assert (rows["nord-0003"]["used"], rows["nord-0003"]["quantity"], rows["nord-0003"]["charge"]) == (
        "0:45", "0:48", "1.192")
    assert (rows["nord-0006"]["used"], rows["nord-0006"]["charge"]) == ("50.00 MB", "5.00")
    assert (rows["nord-0007"]["used"], rows["nord-0007"]["usage"].zone) == ("100.00 MB", "EU_ROAM")
    assert (rows["nord-0005"]["used"], rows["nord-0005"]["charge"]) == ("1", "0.25")
    # newest first
    assert [r["usage"].record_id for r in response.context["rows"]][:2] == ["nord-0007", "nord-0004"]
    totals = {t["service"]: (t["count"], t["usage"], t["quantity"], t["charge"]) for t in response.context["totals"]}
    assert totals == {
        "voice": (5, "4:21", "4:54", "7.222833"),  # 125+61+45+0+30 s used, 125+61+48+0+60 charged
        "sms": (1, "1", "1", "0.25"),
        "data": (2, "150.00 MB", "150.00 MB", "15.00"),
        "content": (1, "1", "1", "19.00"),
    }
    assert response.context["total_charge"] == "41.472833"
    html = response.content.decode()
    assert "2026-10-05 09:15:00" in html  # start times in Copenhagen time
    assert response.context["prepaid"] is False and 'data-testid="prepaid-balance"' not in html


def test_another_month_and_a_range_of_days(make_user, nord, postpaid):
    client = login(make_user("vera", {nord: VIEW}), nord)
    september = page(client, postpaid, "month=2026-09")
    assert september.context["rows"] == [] and september.context["totals"] == []
    assert september.context["links"]["next"].endswith("?month=2026-10")
    fifth = page(client, postpaid, "start=2026-10-05&end=2026-10-05")
    assert sorted(r["usage"].record_id for r in fifth.context["rows"]) == [
        "nord-0001", "nord-0002", "nord-0003", "nord-0005", "nord-0006"]
    assert fifth.context["end"] == dt.datetime(2026, 10, 6, tzinfo=CPH) - dt.timedelta(microseconds=1)
    bad = page(client, postpaid, "month=October")
    assert "month" in bad.context["form"].errors and bad.context["month"] == (2026, 10)


def test_rows_come_in_pages_and_totals_cover_the_period(make_user, nord, postpaid, monkeypatch):
    from telora.rating.views import usage

    monkeypatch.setattr(usage, "PAGE_SIZE", 4)
    client = login(make_user("vera", {nord: VIEW}), nord)
    first, last = page(client, postpaid), page(client, postpaid, "page=3")
    assert len(first.context["rows"]) == 4 and len(last.context["rows"]) == 1
    assert last.context["rows"][0]["usage"].record_id == "nord-0001"  # the oldest (09:15, before 0002's 09:20)
    assert last.context["total_charge"] == "41.472833"


def test_a_prepaid_line_shows_its_balance_and_ledger(make_user, nord, prepaid):
    client = login(make_user("vera", {nord: VIEW}), nord)
    response = page(client, prepaid)
    assert response.context["prepaid"] is True
    assert response.context["balance"] == "10.11"
    assert [(i["entry"].cause, i["amount"], i["after"]) for i in response.context["ledger"]] == [
        ("topup", "10.50", "10.50"), ("usage", "-0.39", "10.11")]  # newest first: topped up on the 20th
    assert [r["balance_after"] for r in response.context["rows"]] == ["10.11"]
    html = response.content.decode()
    assert 'data-testid="balance">DKK 10.11<' in html
    assert 'data-testid="top-up-form"' not in html  # a viewer


def test_a_top_up_from_the_usage_page(make_user, nord, prepaid):
    client = login(make_user("cleo", {nord: ["rating.view", "rating.change"]}), nord)
    assert 'data-testid="top-up-form"' in page(client, prepaid).content.decode()
    response = client.post(reverse("rating:top_up", args=[prepaid.pk]), {"amount": "5.00", "reference": "shop"})
    assert response.status_code == 302
    assert PrepaidBalance.objects.get(subscription=prepaid).balance == Decimal("15.110000")
    event = AuditEvent.objects.filter(action="prepaid_topup").latest("id")
    assert event.actor_label == "cleo"
    bad = client.post(reverse("rating:top_up", args=[prepaid.pk]), {"amount": "-1"}, follow=True)
    assert "Amount" in " ".join(str(m) for m in bad.context["messages"])
    assert PrepaidBalance.objects.get(subscription=prepaid).balance == Decimal("15.110000")


def test_viewers_cannot_top_up(make_user, nord, prepaid):
    client = login(make_user("vera", {nord: VIEW}), nord)
    assert client.post(reverse("rating:top_up", args=[prepaid.pk]), {"amount": "5"}).status_code == 403
    assert PrepaidBalance.objects.get(subscription=prepaid).balance == Decimal("10.110000")


def test_the_subscription_page_has_a_usage_tab_for_rating_viewers(make_user, nord, postpaid):
    url = reverse("customers:subscription_detail", args=[postpaid.pk])
    both = login(make_user("cara", {nord: ["customers.view", "rating.view"]}), nord).get(url).content.decode()
    assert f'href="{reverse("rating:subscription_usage", args=[postpaid.pk])}" data-testid="usage-tab"' in both
    only = login(make_user("cody", {nord: ["customers.view"]}), nord).get(url).content.decode()
    assert 'data-testid="usage-tab"' not in only


def test_without_rating_view_in_its_brand_the_usage_is_not_found(make_user, nord, brand_b, postpaid):
    customers_only = login(make_user("cody", {nord: ["customers.view"]}), nord)
    assert page(customers_only, postpaid).status_code == 404
    other_brand = login(make_user("bob", {brand_b: ["rating.view", "rating.change"]}), brand_b)
    assert page(other_brand, postpaid).status_code == 404
    assert other_brand.post(reverse("rating:top_up", args=[postpaid.pk]), {"amount": "1"}).status_code == 404


def test_units_from_bundles_are_shown_in_the_services_units(make_user, nord, line_for, system, time_machine):
    time_machine.move_to(NOW)
    sub = line_for("4520000001", plan="MOB_POST_10GB")  # DK_TALK_500, DATA_10GB, SMS_FREE
    import_usage_file(nord, CDRS, format="csv", source="nord-msc", actor=system, at=clock.now(), defer=False)
    rate_pending(nord)
    client = login(make_user("vera", {nord: VIEW}), nord)
    rows = {row["usage"].record_id: row for row in page(client, sub).context["rows"]}
    # 125 s to a Danish landline: all from the 500 minutes, nothing to pay
    assert (rows["nord-0001"]["bundle"], rows["nord-0001"]["bundles"], rows["nord-0001"]["charge"]) == (
        "2:05", "DK_TALK_500", "0.00")
    assert (rows["nord-0006"]["bundle"], rows["nord-0006"]["bundles"], rows["nord-0006"]["charge"]) == (
        "50.00 MB", "DATA_10GB", "0.00")
    # a call to Sweden is in no bundle; EU_CALLS_HALF takes half of 1.192
    assert (rows["nord-0003"]["bundle"], rows["nord-0003"]["discount"], rows["nord-0003"]["charge"]) == (
        "", "0.596", "0.596")
    assert rows["nord-0001"]["discount"] == ""
