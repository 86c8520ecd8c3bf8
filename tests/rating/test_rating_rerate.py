"""Re-rating a subscription's period: reversed exactly (counters, prepaid balance with its ledger,
keys, rows), rated again to the same result when nothing changed and to the hand-computed one
after a change; refused for billed periods, without the right, across brands; other
subscriptions and other periods untouched."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from rating_helpers import CDRS

from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.rating.engine import UsageRecord
from telora.rating.models import (
    BalanceEvent,
    BundleCounter,
    PrepaidBalance,
    PrepaidBalanceEntry,
    RatedUsage,
    RatingBatch,
    UsageFile,
    UsageKey,
)
from telora.rating.selectors import rated_usage
from telora.rating.services import import_usage_file, import_usage_records, rate_pending
from telora.rating.services.rerate import register_billed_check, rerate_subscription, unregister_billed_check

D = Decimal
CPH = ZoneInfo("Europe/Copenhagen")
OCT = dt.datetime(2026, 10, 1, tzinfo=CPH)
NOV = dt.datetime(2026, 11, 1, tzinfo=CPH)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]
RERATER = ["rating.view", "rating.change", "rating.rerate"]


def take(brand, system):
    import_usage_file(brand, CDRS, format="csv", source="nord-msc", actor=system, at=clock.now())
    rate_pending(brand)


def rows(sub):
    """How each record of the subscription was rated, without the ids of the run."""
    return {r.record_id: (r.service, r.a_number, r.b_number, r.start_time, r.usage, r.quantity, r.zone, r.band,
                          r.rate_plan, r.rate_key, r.bundle_use, r.discount, r.charge, r.balance_after, r.location,
                          r.direction, r.record_charge, r.source)
            for r in RatedUsage.objects.filter(subscription_id=sub.pk)}


def counters(sub):
    return {(c.code, c.allowance, c.period_start): c.used for c in BundleCounter.objects.filter(subscription=sub)}


def test_postpaid_with_bundles_rated_again_to_the_same_result(nord, line_for, system, make_user):
    sub = line_for("4520000001", plan="MOB_POST_10GB")
    take(nord, system)
    before, used = rows(sub), counters(sub)
    assert used == {("DK_TALK_500", 0, dt.date(2026, 10, 1)): 186, ("SMS_FREE", 0, dt.date(2026, 10, 1)): 1,
                    ("DATA_10GB", 0, dt.date(2026, 10, 1)): 157286400}
    keys = UsageKey.objects.filter(brand=nord).count()
    ann = make_user("ann", {nord: RERATER})
    at = clock.now()
    result = rerate_subscription(sub, since=OCT, until=NOV, actor=Actor(user=ann), at=at, defer=False)
    # 0003: 1.192000 less EU_CALLS_HALF = 0.596000; 0008: 4.950000; 0009: 19.000000; the rest in bundles.
    assert result["reversed"] == 9 and result["old_total"] == D("24.546000")
    assert result["new_total"] == D("24.546000") and (result["rated"], result["failed"]) == (9, 0)
    assert rows(sub) == before
    assert counters(sub) == used
    assert UsageKey.objects.filter(brand=nord).count() == keys
    new_file = UsageFile.objects.get(pk=result["files"][0])
    assert new_file.name == "re-rate mobile_postpaid 4520000001 2026-10-01..2026-11-01"
    assert set(RatedUsage.objects.filter(subscription_id=sub.pk).values_list("file_id", flat=True)) == {new_file.pk}
    event = AuditEvent.objects.get(action="rerate", object_type="customers.subscription")
    assert (event.actor_label, event.at, event.object_id) == ("ann", at, str(sub.pk))
    assert event.changes["count"] == [9, None] and event.changes["total"] == ["24.546000", None]
    assert event.changes["bundle_units"] == [186 + 1 + 157286400, None]
    assert not PrepaidBalanceEntry.objects.exists()


def test_prepaid_balance_given_back_with_a_ledger_entry_and_taken_again(nord, line_for, system):
    sub = line_for("4520000001", plan="MOB_PRE")
    PrepaidBalance.objects.create(subscription=sub, balance=D("30.00"), updated_at=clock.now())
    take(nord, system)
    before = rows(sub)
    assert PrepaidBalance.objects.get(subscription=sub).balance == D("-2.646500")
    assert BalanceEvent.objects.filter(subscription=sub).count() == 2
    at = clock.now()
    result = rerate_subscription(sub, since=OCT, until=NOV, actor=system, at=at)
    assert result["reversed"] == 8 and result["old_total"] == D("32.646500")
    # Reversed, not yet rated again: the balance is back, the rows and their keys are gone.
    assert PrepaidBalance.objects.get(subscription=sub).balance == D("30.000000")
    assert not RatedUsage.objects.filter(subscription_id=sub.pk).exists()
    assert not UsageKey.objects.filter(brand=nord, record_id="nord-0001").exists()
    assert not BalanceEvent.objects.filter(subscription=sub).exists()  # none consumed yet: they go with the usage
    reversal = PrepaidBalanceEntry.objects.get(cause="rerate")
    assert (reversal.amount, reversal.balance_after, reversal.at) == (D("32.646500"), D("30.000000"), at)
    assert reversal.reference == "re-rate 2026-10-01..2026-11-01"
    assert RatingBatch.objects.filter(file_id__in=result["files"], status="pending").count() == 1
    rate_pending(nord)
    assert rows(sub) == before  # the same charges and the same balance after each record
    assert PrepaidBalance.objects.get(subscription=sub).balance == D("-2.646500")
    ledger = list(PrepaidBalanceEntry.objects.filter(subscription=sub).order_by("id").values_list("cause", "amount"))
    assert len(ledger) == 15 and ledger[7] == ("rerate", D("32.646500"))
    # 7 usage entries (-32.646500), the reversal (+32.646500), 7 usage entries again.
    assert sum(amount for _c, amount in ledger) == D("-32.646500")
    assert list(BalanceEvent.objects.filter(subscription=sub).order_by("id").values_list("kind", flat=True)) == [
        "LOW_BALANCE", "ZERO_BALANCE"]


def test_after_an_addon_from_before_the_records_the_new_charges(nord, line_for, system):
    from telora.customers.services import add_addon

    sub = line_for("4520000001")  # MOB_POST_BASIC: no bundles
    take(nord, system)
    assert RatedUsage.objects.get(record_id="nord-0007").charge == D("10.000000")  # 100 MB in SE, EU_ROAM
    instance = add_addon(sub, "ROAM_EU_5GB", actor=system, at=dt.datetime(2026, 9, 1, tzinfo=dt.UTC))
    result = rerate_subscription(sub, since=OCT, until=NOV, actor=system, at=clock.now(), defer=False)
    # 0.625 + 0.455833 + 1.192 + 0 + 0.25 + 5 + 10 + 4.95 + 19 before; the 10.00 now from the bundle.
    assert result["old_total"] == D("41.472833")
    assert result["new_total"] == D("31.472833")
    row = RatedUsage.objects.get(record_id="nord-0007")
    assert row.charge == D("0.000000")
    assert row.bundle_use == [[f"{instance.pk}:EU_ROAM_5GB", "EU_ROAM_5GB", 0, "2026-10-01", 104857600]]
    assert counters(sub) == {("EU_ROAM_5GB", 0, dt.date(2026, 10, 1)): 104857600}
    assert RatedUsage.objects.get(record_id="nord-0001").charge == D("0.625000")


def test_other_subscriptions_and_other_periods_are_untouched(nord, line_for, system):
    sub = line_for("4520000001", plan="MOB_POST_10GB")
    other = line_for("4520000002", plan="MOB_POST_10GB")
    take(nord, system)
    outside = [
        UsageRecord("late-sep", "voice", "4520000001", "4533123456", dt.datetime(2026, 9, 30, 21, 59, tzinfo=dt.UTC),
                    duration=60),  # 23:59 on 30 September in Copenhagen
        UsageRecord("nov-1", "voice", "4520000001", "4533123456", dt.datetime(2026, 10, 31, 23, 0, tzinfo=dt.UTC),
                    duration=60),  # 00:00 on 1 November in Copenhagen: the until is exclusive
        UsageRecord("other-1", "voice", "4520000002", "4533123456", dt.datetime(2026, 10, 5, 7, 0, tzinfo=dt.UTC),
                    duration=90),
    ]
    import_usage_records(nord, outside, source="nord-msc", actor=system, at=clock.now())
    rate_pending(nord)
    kept = {r.record_id: (r.pk, r.file_id, r.charge, r.bundle_use)
            for r in RatedUsage.objects.filter(record_id__in=["late-sep", "nov-1", "other-1"])}
    assert len(kept) == 3
    other_counters = counters(other)
    assert other_counters == {("DK_TALK_500", 0, dt.date(2026, 10, 1)): 90}
    result = rerate_subscription(sub, since=OCT, until=NOV, actor=system, at=clock.now(), defer=False)
    assert result["reversed"] == 9
    assert {r.record_id: (r.pk, r.file_id, r.charge, r.bundle_use)
            for r in RatedUsage.objects.filter(record_id__in=["late-sep", "nov-1", "other-1"])} == kept
    assert counters(other) == other_counters
    used = counters(sub)
    assert used[("DK_TALK_500", 0, dt.date(2026, 9, 1))] == 60
    assert used[("DK_TALK_500", 0, dt.date(2026, 11, 1))] == 60
    assert used[("DK_TALK_500", 0, dt.date(2026, 10, 1))] == 186
    assert [r.record_id for r in rated_usage(sub, since=OCT, until=NOV)][:2] == ["nord-0001", "nord-0002"]


def test_an_empty_period_changes_nothing_but_is_audited(nord, line_for, system):
    sub = line_for("4520000001")
    take(nord, system)
    result = rerate_subscription(sub, since=NOV, until=NOV + dt.timedelta(days=30), actor=system, at=clock.now(),
                                 defer=False)
    assert result == {"reversed": 0, "old_total": D("0"), "files": [], "rated": 0, "failed": 0, "new_total": D("0")}
    assert RatedUsage.objects.filter(subscription_id=sub.pk).count() == 9
    assert AuditEvent.objects.filter(action="rerate", object_id=str(sub.pk)).count() == 1


def test_refused_when_a_billed_check_says_billed(nord, line_for, system):
    sub = line_for("4520000001")
    take(nord, system)
    asked = []

    def billed(subscription_id, since, until):
        asked.append((subscription_id, since, until))
        return "invoice N-1 covers 2026-10" if since < NOV and until > OCT else None

    register_billed_check(billed)
    try:
        with pytest.raises(ServiceError, match="invoice N-1 covers 2026-10") as refused:
            rerate_subscription(sub, since=OCT, until=NOV, actor=system, at=clock.now())
        assert refused.value.field == "since"
        assert asked == [(sub.pk, OCT, NOV)]
        result = rerate_subscription(sub, since=NOV, until=NOV + dt.timedelta(days=1), actor=system, at=clock.now())
        assert result["reversed"] == 0
    finally:
        unregister_billed_check(billed)
    assert RatedUsage.objects.filter(subscription_id=sub.pk).count() == 9
    assert not AuditEvent.objects.filter(action="rerate", object_id=str(sub.pk), changes__count=[9, None]).exists()


def test_refused_for_a_bad_period(nord, line_for, system):
    sub = line_for("4520000001")
    for since, until, field in ((NOV, OCT, "until"), (OCT, OCT, "until"), (dt.datetime(2026, 10, 1), NOV, "since")):
        with pytest.raises(ServiceError) as refused:
            rerate_subscription(sub, since=since, until=until, actor=system, at=clock.now())
        assert refused.value.field == field


def test_refused_without_the_right_and_across_brands(nord, brand_b, line_for, system, make_user):
    sub = line_for("4520000001")
    take(nord, system)
    changer = make_user("carl", {nord: ["rating.view", "rating.change"]})
    with pytest.raises(PermissionDeniedError, match="rating.rerate"):
        rerate_subscription(sub, since=OCT, until=NOV, actor=Actor(user=changer), at=clock.now())
    elsewhere = make_user("bea", {brand_b: RERATER})
    with pytest.raises(PermissionDeniedError, match="NORD"):
        rerate_subscription(sub, since=OCT, until=NOV, actor=Actor(user=elsewhere), at=clock.now())
    assert RatedUsage.objects.filter(subscription_id=sub.pk).count() == 9
    assert not rated_usage(sub, principal=elsewhere).exists()
    assert rated_usage(sub, principal=make_user("ann", {nord: ["rating.view"]})).count() == 9


def test_part_of_a_month(nord, line_for, system):
    sub = line_for("4520000001")
    take(nord, system)
    before = RatedUsage.objects.filter(subscription_id=sub.pk).count()
    result = rerate_subscription(sub, since=dt.datetime(2026, 10, 6, tzinfo=CPH),
                                 until=dt.datetime(2026, 10, 8, tzinfo=CPH), actor=system, at=clock.now(),
                                 defer=False)
    assert result["reversed"] == 2  # nord-0008 on the 6th and nord-0009 on the 7th
    assert result["old_total"] == result["new_total"] == D("23.950000")
    assert RatedUsage.objects.filter(subscription_id=sub.pk).count() == before


def test_the_partitions_of_every_number_held_are_locked_until_the_commit(nord, line_for, system):
    """Another session (a worker's rate_batch) cannot take a partition lock while the re-rating's
    transaction is open: here the test's own transaction keeps it open after the call."""
    import psycopg
    from django.db import connection

    from telora.customers.models import NumberAssignment
    from telora.rating.services import partition_of

    sub = line_for("4520000001")
    take(nord, system)
    # The subscription also held a second number during October (and a third one only before).
    NumberAssignment.objects.create(brand=nord, subscription=sub, number="4520001234",
                                    valid_from=dt.datetime(2026, 10, 10, tzinfo=dt.UTC),
                                    valid_to=dt.datetime(2026, 10, 20, tzinfo=dt.UTC))
    NumberAssignment.objects.create(brand=nord, subscription=sub, number="4520005678",
                                    valid_from=dt.datetime(2026, 8, 1, tzinfo=dt.UTC),
                                    valid_to=dt.datetime(2026, 9, 1, tzinfo=dt.UTC))
    expected = {partition_of("4520000001"), partition_of("4520001234")}
    assert partition_of("4520005678") not in expected  # else the third number proves nothing
    rerate_subscription(sub, since=OCT, until=NOV, actor=system, at=clock.now())
    with connection.cursor() as cursor:
        cursor.execute("SELECT classid::int, objid::int FROM pg_locks WHERE locktype = 'advisory' "
                       "AND pid = pg_backend_pid() AND objsubid = 2")
        held = {(brand_id, partition) for brand_id, partition in cursor.fetchall()}
    assert {p for b, p in held if b == nord.pk} == expected
    s = connection.settings_dict
    with psycopg.connect(host=s["HOST"], port=s["PORT"], user=s["USER"], dbname=s["NAME"],
                         password=s.get("PASSWORD") or None, autocommit=True) as other:
        for partition in expected:
            taken = other.execute("SELECT pg_try_advisory_lock(%s::int, %s::int)", [nord.pk, partition]).fetchone()
            assert taken == (False,)
        assert other.execute("SELECT pg_try_advisory_lock(%s::int, %s::int)",
                             [nord.pk, partition_of("4520005678")]).fetchone() == (True,)


def test_after_a_rate_change_from_the_first_of_the_month(nord, line_for, system):
    from rating_helpers import CATALOG

    from telora.catalog.services.apply import apply_catalog
    from telora.catalog.yamlio import load
    from telora.rating.services.context import forget_tariffs

    sub = line_for("4520000001")
    take(nord, system)
    data = load(CATALOG.read_text())
    plan = next(p for p in data["rate_plans"] if p["code"] == "POST_STD")
    peak = next(r for r in plan["rates"] if (r["service"], r["zone"], r.get("band")) == ("voice", "DK", "PEAK"))
    peak["price"] = "0.40"
    apply_catalog(data, actor=system, at=clock.now(), effective_from=dt.date(2026, 10, 1))
    forget_tariffs()
    result = rerate_subscription(sub, since=OCT, until=NOV, actor=system, at=clock.now(), defer=False)
    # nord-0001, 125 s DK PEAK: 0.30 x 125 / 60 = 0.625000 before, 0.40 x 125 / 60 = 0.833333 now.
    assert RatedUsage.objects.get(record_id="nord-0001").charge == D("0.833333")
    assert result["old_total"] == D("41.472833")
    assert result["new_total"] == D("41.472833") - D("0.625000") + D("0.833333") == D("41.681166")
    assert RatedUsage.objects.get(record_id="nord-0002").charge == D("0.455833")  # DK_MOBILE: no band, unchanged
