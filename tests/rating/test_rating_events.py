"""Rating says what happened to prepaid balances and bundles: a top-up, a balance going low and
reaching zero, and a bundle allowance crossing 80 % and 100 % (reported by the pure engine)."""

import datetime as dt
from decimal import Decimal

import pytest
from rating_helpers import CDRS

from telora.core import clock
from telora.events.models import Event
from telora.rating.engine.results import BUNDLE_THRESHOLDS
from telora.rating.models import BundleCounter, PrepaidBalance
from telora.rating.services import import_usage_file, rate_pending
from telora.rating.services.balances import top_up

D = Decimal
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]
HEADER = b"record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"


def take(brand, data, system, name):
    import_usage_file(brand, data, format="csv", source="nord-msc", actor=system, at=clock.now(), name=name)
    rate_pending(brand)


def test_a_top_up_emits_balance_topped_up(nord, line_for, system):
    sub = line_for("4520000001", plan="MOB_PRE")
    entry = top_up(sub, D("10.50"), actor=system, at=clock.now(), reference="voucher 123")
    event = Event.objects.get(type="balance.topped_up")
    assert (event.subject_type, event.subject_id, event.brand_id) == ("customers.subscription", str(sub.pk), nord.pk)
    assert event.payload == {"subscription_id": sub.pk, "customer_id": sub.customer_id, "amount": "10.50",
                             "balance": "10.50", "entry_id": entry.pk, "reference": "voucher 123"}


def test_rating_a_prepaid_line_below_its_threshold_and_to_zero_emits_both(nord, line_for, system):
    sub = line_for("4520000001", plan="MOB_PRE")
    line_for("4520000002")
    PrepaidBalance.objects.create(subscription=sub, balance=D("30.00"), updated_at=clock.now())
    take(nord, CDRS, system, "cdrs.csv")
    low, zero = Event.objects.get(type="balance.low"), Event.objects.get(type="balance.zero")
    for event in (low, zero):
        assert event.subject_id == str(sub.pk) and event.payload["subscription_id"] == sub.pk
        assert D(event.payload["threshold"]) >= 0 and event.payload["record_id"].startswith("nord-")
    assert D(low.payload["balance"]) < D(low.payload["threshold"]) and D(zero.payload["balance"]) <= 0


def test_a_bundle_crossing_80_and_then_100_percent_is_reported_once_each(nord, line_for, system):
    assert BUNDLE_THRESHOLDS == (80, 100)
    sub = line_for("4520000001", plan="MOB_POST_10GB")
    call = HEADER + b"v-%d,voice,4520000001,4533123456,2026-10-05T1%d:00:00+02:00,60,,,,\n"
    take(nord, call % (1, 0), system, "1.csv")  # 60 s of 30,000: no threshold
    assert not Event.objects.filter(type__startswith="bundle.").exists()
    counter = BundleCounter.objects.get(subscription=sub, code="DK_TALK_500")
    assert counter.amount == 30000
    BundleCounter.objects.filter(pk=counter.pk).update(used=23990)  # 10 s short of 80 %
    take(nord, call % (2, 1), system, "2.csv")
    (used_80,) = Event.objects.filter(type="bundle.used_80")
    assert used_80.payload["bundle"] == "DK_TALK_500" and used_80.payload["percent"] == 80
    assert (used_80.payload["used"], used_80.payload["amount"]) == (24050, 30000)
    assert used_80.payload["subscription_id"] == sub.pk
    take(nord, call % (3, 2), system, "3.csv")  # 24,110: above 80 % already, nothing new
    assert Event.objects.filter(type__startswith="bundle.").count() == 1
    BundleCounter.objects.filter(pk=counter.pk).update(used=29990)
    take(nord, call % (4, 3), system, "4.csv")
    (used_100,) = Event.objects.filter(type="bundle.used_100")
    assert used_100.payload["used"] == 30000  # the bundle gives what it has left; the rest is charged
    assert Event.objects.filter(type="bundle.used_80").count() == 1
    assert dt.date.fromisoformat(used_100.payload["period_start"]) <= dt.date(2026, 10, 5)
