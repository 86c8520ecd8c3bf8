"""Prepaid top-ups and adjustments (telora.rating.services.balances): the ledger and the cached
balance move together, rating continues from a topped-up balance, the partition lock is taken,
and refusals name the field."""

from decimal import Decimal

import pytest

from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.rating.models import PrepaidBalance, PrepaidBalanceEntry, RatedUsage
from telora.rating.services import import_usage_file, partition_of, rate_pending
from telora.rating.services.balances import adjust, balance_of, ledger, prepaid_subscriptions, top_up

D = Decimal
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]
HEADER = b"record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"


def test_a_top_up_raises_the_balance_and_rating_lowers_it_from_there(nord, line_for, system):
    sub = line_for("4520000001", plan="MOB_PRE")
    assert balance_of(sub) == D(0)
    entry = top_up(sub, D("10.50"), actor=system, at=clock.now(), reference="voucher 123")
    assert (entry.amount, entry.balance_after, entry.cause, entry.reference) == (D("10.5"), D("10.5"), "topup",
                                                                                  "voucher 123")
    assert balance_of(sub) == D("10.500000")
    # one SMS to a Danish mobile on PRE_STD costs 0.39: 10.50 - 0.39 = 10.11
    usage_file = import_usage_file(nord, HEADER + b"p-1,sms,4520000001,4533123456,2026-10-05T09:15:00+02:00,,,1,,\n",
                                   format="csv", source="msc", actor=system, at=clock.now(), name="p.csv")
    rate_pending(nord)
    assert RatedUsage.objects.get(file_id=usage_file.pk).balance_after == D("10.110000")
    assert balance_of(sub) == D("10.110000")
    top_up(sub, D("0.000001"), actor=system, at=clock.now())
    assert balance_of(sub) == D("10.110001")
    entries = list(PrepaidBalanceEntry.objects.filter(subscription=sub).order_by("id")
                   .values_list("cause", "amount", "balance_after"))
    assert entries == [("topup", D("10.5"), D("10.5")), ("usage", D("-0.39"), D("10.11")),
                       ("topup", D("0.000001"), D("10.110001"))]
    assert [e.cause for e in ledger(sub, causes=["topup"])] == ["topup", "topup"]
    event = AuditEvent.objects.filter(action="prepaid_topup").order_by("id").first()
    assert event.object_id == str(sub.pk) and event.actor_label == "job:tests"
    assert event.changes == {"amount": [None, "10.50"], "reference": [None, "voucher 123"],
                             "prepaid_balance": ["0", "10.50"]}


def test_an_adjustment_credits_or_debits(nord, line_for, system):
    sub = line_for("4520000001", plan="MOB_PRE")
    adjust(sub, D("5"), actor=system, at=clock.now(), reference="goodwill")
    adjust(sub, D("-1.25"), actor=system, at=clock.now(), reference="correction")
    assert balance_of(sub) == D("3.75")
    assert list(ledger(sub).values_list("cause", "amount", "balance_after")) == [
        ("adjustment", D("-1.25"), D("3.75")), ("adjustment", D("5"), D("5"))]
    with pytest.raises(ServiceError) as refused:
        adjust(sub, D("0"), actor=system, at=clock.now())
    assert refused.value.field == "amount"


@pytest.mark.parametrize("amount", [D("0"), D("-1"), D("1.0000001"), D("NaN"), "ten", D("1000000000000")])
def test_bad_amounts_are_refused_naming_the_amount(nord, line_for, system, amount):
    sub = line_for("4520000001", plan="MOB_PRE")
    with pytest.raises(ServiceError) as refused:
        top_up(sub, amount, actor=system, at=clock.now())
    assert refused.value.field == "amount"
    assert not PrepaidBalanceEntry.objects.exists() and not PrepaidBalance.objects.exists()


def test_only_live_prepaid_subscriptions_are_topped_up(nord, line_for, system):
    postpaid = line_for("4520000002")
    with pytest.raises(ServiceError, match="not prepaid") as refused:
        top_up(postpaid, D("5"), actor=system, at=clock.now())
    assert refused.value.field == "subscription"
    prepaid = line_for("4520000001", plan="MOB_PRE")
    assert list(prepaid_subscriptions(clock.now()).filter(brand=nord)) == [prepaid]
    prepaid.status = "terminated"
    prepaid.save(update_fields=["status"])
    with pytest.raises(ServiceError, match="terminated"):
        top_up(prepaid, D("5"), actor=system, at=clock.now())


def test_top_up_needs_rating_change_in_the_subscriptions_brand(nord, line_for, make_brand, make_user):
    sub = line_for("4520000001", plan="MOB_PRE")
    other = make_brand("other")
    viewer = make_user("vera", {nord: ["rating.view"]})
    elsewhere = make_user("ella", {other: ["rating.view", "rating.change"]})
    clerk = make_user("carl", {nord: ["rating.view", "rating.change"]})
    for user in (viewer, elsewhere):
        with pytest.raises(PermissionDeniedError):
            top_up(sub, D("5"), actor=Actor(user=user), at=clock.now())
    top_up(sub, D("5"), actor=Actor(user=clerk), at=clock.now())
    assert balance_of(sub) == D("5")


def test_the_partition_lock_of_the_number_is_held_until_the_commit(nord, line_for, system):
    """Rating takes pg_advisory_lock(brand, partition); the top-up the same key in its transaction
    (the test's transaction is still open here, so the lock is still held)."""
    from django.db import connection

    sub = line_for("4520000001", plan="MOB_PRE")
    top_up(sub, D("1"), actor=system, at=clock.now())
    with connection.cursor() as cursor:
        cursor.execute("SELECT classid::int, objid::int FROM pg_locks WHERE locktype = 'advisory' "
                       "AND pid = pg_backend_pid() AND objsubid = 2")
        assert cursor.fetchall() == [(nord.pk, partition_of("4520000001"))]


def test_rights_come_before_the_amount(nord, line_for, make_user):
    sub = line_for("4520000001", plan="MOB_PRE")
    viewer = make_user("vera", {nord: ["rating.view"]})
    with pytest.raises(PermissionDeniedError):
        top_up(sub, D("-1"), actor=Actor(user=viewer), at=clock.now())
    with pytest.raises(PermissionDeniedError):
        adjust(sub, D("0"), actor=Actor(user=viewer), at=clock.now())
