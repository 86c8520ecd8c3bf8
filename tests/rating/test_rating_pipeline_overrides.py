"""The pipeline rates a customer with a price agreement at the agreement, a customer of a group at
the group's override, and everyone else at the plan; an agreement starting mid-batch applies from
its start; the stored rated usage names the override (needs the database)."""

import datetime as dt
from decimal import Decimal

import pytest
from rating_helpers import CATALOG

from telora.catalog.models import CustomerGroup
from telora.catalog.services.apply import apply_catalog
from telora.catalog.yamlio import load
from telora.core import clock
from telora.customers.services import add_price_agreement, end_price_agreement, update_customer
from telora.rating.models import RatedUsage
from telora.rating.services import import_usage_file, rate_pending
from telora.rating.services.context import forget_tariffs

D = Decimal
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]
HEADER = "record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"
MONDAY = dt.datetime(2026, 10, 5, tzinfo=dt.UTC)


def _take(nord, system, lines: str):
    usage_file = import_usage_file(nord, (HEADER + lines).encode(), format="csv", source="msc", actor=system,
                                   at=clock.now(), name="day.csv")
    rate_pending(nord)
    return {r.record_id: (r.charge, r.override, r.zone) for r in RatedUsage.objects.filter(file_id=usage_file.pk)}


def _with_group(system):
    data = load(CATALOG.read_text())
    data["customer_groups"] = [{"code": "BIZ", "name": "Business", "rate_overrides": [
        {"service": "voice", "zone": "DK", "price": "0.12", "unit": 60, "increments": [1, 1]},
        {"rate_plan": "POST_STD", "service": "sms", "zone": "DK", "discount": "50"}]}]
    apply_catalog(data, actor=system, at=clock.now(), effective_from=dt.date(2024, 1, 1))


def test_agreement_then_group_then_plan(nord, line_for, system):
    _with_group(system)
    forget_tariffs()
    plain = line_for("4520000001")
    grouped = line_for("4520000002")
    agreed = line_for("4520000003")
    group = CustomerGroup.objects.get(brand=nord, code="BIZ")
    for line in (grouped, agreed):
        update_customer(line.customer, actor=system, at=clock.now(), customer_group=group)
    agreement = add_price_agreement(agreed.customer, actor=system, at=clock.now(), service="voice", zone="DK",
                                    price="0.06", unit=60, valid_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    rated = _take(nord, system,
                  "p1,voice,4520000001,4533123456,2026-10-05T09:15:00+02:00,120,,,,\n"
                  "g1,voice,4520000002,4533123456,2026-10-05T09:15:00+02:00,120,,,,\n"
                  "a1,voice,4520000003,4533123456,2026-10-05T09:15:00+02:00,120,,,,\n"
                  "g2,sms,4520000002,4533123456,2026-10-05T09:16:00+02:00,,,1,,\n"
                  "a2,sms,4520000003,4533123456,2026-10-05T09:16:00+02:00,,,1,,\n")
    assert rated["p1"] == (D("0.600000"), "", "DK")  # the plan: 0.30 a minute in PEAK
    assert rated["g1"] == (D("0.240000"), "group:BIZ", "DK")
    assert rated["a1"] == (D("0.060000") * 2, f"customer:{agreement.pk}", "DK")
    # SMS: no agreement for it, so the group's half off POST_STD's 0.25 applies to both
    assert rated["g2"][:2] == rated["a2"][:2] == (D("0.125000"), "group:BIZ")
    assert plain.customer.customer_group is None


def test_an_agreement_starting_and_ending_mid_batch(nord, line_for, system):
    forget_tariffs()
    line = line_for("4520000001")
    start, end = MONDAY + dt.timedelta(hours=8), MONDAY + dt.timedelta(hours=12)
    agreement = add_price_agreement(line.customer, actor=system, at=clock.now(), service="voice", zone="DK",
                                    percent="10", valid_from=start)
    end_price_agreement(agreement, actor=system, at=clock.now(), end_at=end)
    rated = _take(nord, system,
                  "before,voice,4520000001,4533123456,2026-10-05T09:59:00+02:00,60,,,,\n"   # 07:59 UTC
                  "during,voice,4520000001,4533123456,2026-10-05T10:00:00+02:00,60,,,,\n"   # 08:00 UTC
                  "after,voice,4520000001,4533123456,2026-10-05T14:00:00+02:00,60,,,,\n")   # 12:00 UTC
    assert rated["before"][:2] == (D("0.300000"), "")
    assert rated["during"][:2] == (D("0.270000"), f"customer:{agreement.pk}")
    assert rated["after"][:2] == (D("0.300000"), "")
    during = RatedUsage.objects.get(record_id="during")
    assert during.discount == D("0.030000")


def test_the_consumption_page_and_tmf635_name_the_override(nord, line_for, system, make_user):
    from django.test import Client

    forget_tariffs()
    line = line_for("4520000001")
    agreement = add_price_agreement(line.customer, actor=system, at=clock.now(), service="voice", zone="DK",
                                    price="0.06", unit=60, valid_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    _take(nord, system, "c1,voice,4520000001,4533123456,2026-10-05T09:15:00+02:00,60,,,,\n")
    client = Client()
    client.force_login(make_user("csr", {nord: ["customers.view", "rating.view"]}))
    page = client.get(f"/rating/subscriptions/{line.pk}/usage/", {"start": "2026-10-01", "end": "2026-10-31"})
    assert page.status_code == 200
    assert b'data-testid="override"' in page.content
    assert f"customer:{agreement.pk}".encode() in page.content
    from telora.rating.tmf.usage import render

    shown = render(RatedUsage.objects.get(record_id="c1"), line, None)
    assert {"name": "rateOverride", "value": f"customer:{agreement.pk}", "valueType": "string"} in \
        shown["usageCharacteristic"]
