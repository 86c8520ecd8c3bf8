"""Prepaid balances and bundle counters through the database: the ledger gets an entry per
charged record, the balance is kept, events are raised once; counters carry over between files."""

from decimal import Decimal

import pytest
from rating_helpers import CDRS

from telora.core import clock
from telora.rating.models import BalanceEvent, BundleCounter, PrepaidBalance, PrepaidBalanceEntry, RatedUsage
from telora.rating.services import import_usage_file, rate_pending

D = Decimal
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]


def take(brand, data, system, name="cdrs.csv"):
    usage_file = import_usage_file(brand, data, format="csv", source="nord-msc", actor=system, at=clock.now(),
                                   name=name)
    rate_pending(brand)
    usage_file.refresh_from_db()
    return usage_file


def test_prepaid_balance_goes_down_per_record_with_the_ledger(nord, line_for, system):
    sub = line_for("4520000001", plan="MOB_PRE")
    line_for("4520000002")
    PrepaidBalance.objects.create(subscription=sub, balance=D("30.00"), updated_at=clock.now())
    usage_file = take(nord, CDRS, system)
    assert (usage_file.rated, usage_file.failed) == (8, 3)  # PRE_STD has no rate for roaming in SE
    after = dict(RatedUsage.objects.filter(subscription_id=sub.pk).values_list("record_id", "balance_after"))
    assert after["nord-0001"] == D("28.979167")
    assert after["nord-0009"] == D("-2.646500")  # offline records may take it below zero
    ledger = list(PrepaidBalanceEntry.objects.filter(subscription=sub).order_by("at", "id")
                  .values_list("reference", "amount", "balance_after"))
    assert ledger[0] == ("nord-msc:nord-0001", D("-1.020833"), D("28.979167"))
    assert len(ledger) == 7  # the zero-length call changes nothing
    assert sum(amount for _r, amount, _b in ledger) == D("-32.646500")
    assert PrepaidBalance.objects.get(subscription=sub).balance == D("-2.646500")
    assert list(BalanceEvent.objects.filter(subscription=sub).order_by("id").values_list("kind", flat=True)) == [
        "LOW_BALANCE", "ZERO_BALANCE"]


def test_a_second_file_continues_from_the_stored_balance(nord, line_for, system):
    sub = line_for("4520000001", plan="MOB_PRE")
    PrepaidBalance.objects.create(subscription=sub, balance=D("10.00"), updated_at=clock.now())
    header = b"record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"
    take(nord, header + b"p-1,sms,4520000001,4533123456,2026-10-05T09:15:00+02:00,,,1,,\n", system, "1.csv")
    take(nord, header + b"p-2,sms,4520000001,4533123456,2026-10-05T09:16:00+02:00,,,1,,\n", system, "2.csv")
    assert PrepaidBalance.objects.get(subscription=sub).balance == D("9.220000")  # 2 x 0.39
    assert not BalanceEvent.objects.exists()


def test_bundle_counters_are_stored_and_carried_into_the_next_file(nord, line_for, system):
    sub = line_for("4520000001", plan="MOB_POST_10GB")
    line_for("4520000002")
    take(nord, CDRS, system)
    counters = {c.code: c.used for c in BundleCounter.objects.filter(subscription=sub)}
    assert counters == {"DK_TALK_500": 186, "SMS_FREE": 1, "DATA_10GB": 157286400}
    assert RatedUsage.objects.get(record_id="nord-0001").bundle_use[0][1] == "DK_TALK_500"
    header = b"record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"
    take(nord, header + b"b-1,voice,4520000001,4533123456,2026-10-06T09:15:00+02:00,60,,,,\n", system, "more.csv")
    counters = {c.code: c.used for c in BundleCounter.objects.filter(subscription=sub)}
    assert counters["DK_TALK_500"] == 246
    assert RatedUsage.objects.get(record_id="b-1").charge == D("0")
