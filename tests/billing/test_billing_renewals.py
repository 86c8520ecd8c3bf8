"""Prepaid renewals on the reference catalogue (DKK, cycle M01 from the 1st, Europe/Copenhagen):
the prepaid plan MOB_PRE costs 20.00 a month and, here, holds the bundle SMS_FREE (SMS in Denmark
free). One test per policy: paid; renewed into the grace (negative); beyond the grace skipped;
the skip policy keeps the bundles back and notifies, a top-up renews it late (bundles from then).
Also: a re-run takes nothing twice, the bill run takes no prepaid fee, the renewal day is the
brand's local day, the first period is prorated, bounds and rights, the job, the CLI."""

import datetime as dt
from decimal import Decimal as D

import pytest
import time_machine
from billing_helpers import cph
from django.core.management import call_command
from django.core.management.base import CommandError

from telora.billing.models import BillingSettings, ChargeMark
from telora.billing.services import execute_run, start_run
from telora.billing.services.renewals import renew_due
from telora.core import clock
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.events.models import Event
from telora.rating.models import BalanceEvent, PrepaidBalance, PrepaidBalanceEntry, PrepaidRenewal, RatedUsage
from telora.rating.services import balances, import_usage_file, rate_pending

pytestmark = pytest.mark.usefixtures("nord_kept")

MARCH = dt.date(2026, 3, 1)
HEADER = b"record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"


@pytest.fixture
def bundled(nord):
    """MOB_PRE holds SMS_FREE (the reference catalogue's free SMS in Denmark)."""
    from telora.catalog.models import Bundle, Product, ProductBundle

    ProductBundle.objects.create(brand=nord, product=Product.objects.get(brand=nord, code="MOB_PRE"),
                                 bundle=Bundle.objects.get(brand=nord, code="SMS_FREE"))
    return nord


@pytest.fixture
def line(bundled, account_for, subscribe):
    """line(balance) -> a prepaid line from 2026-02-01 whose February is renewed (paid) and whose
    balance is then `balance` (set directly: a top-up would renew on its own)."""
    made = {"n": 0}

    def make(balance):
        made["n"] += 1
        sub = subscribe(account_for(f"Pre Paid{made['n']}"), "2026-02-01", plan="MOB_PRE")
        PrepaidBalance.objects.create(subscription=sub, balance=D("20"), updated_at=cph("2026-02-01"))
        with time_machine.travel(cph("2026-02-01T00:10"), tick=False):
            renew_due(bundled, None, actor=Actor.system("tests"), at=clock.now(), subscription=sub)
        PrepaidBalance.objects.filter(subscription=sub).update(balance=D(balance))
        return sub

    return make


def policy(brand, name, grace="0"):
    BillingSettings.objects.update_or_create(brand=brand, defaults={"prepaid_renewal_policy": name,
                                                                    "prepaid_renewal_grace": D(grace)})


def renew(brand, at="2026-03-01T00:30", day=None):
    with time_machine.travel(cph(at), tick=False):
        return renew_due(brand, day, actor=Actor.system("tests"), at=cph(at))


def march(sub):
    return PrepaidRenewal.objects.get(subscription=sub, period_start=MARCH)


def sms(brand, sub, record_id, at, system):
    """Rate one SMS of the line to a Danish number through the pipeline; its charge."""
    with time_machine.travel(cph(at) + dt.timedelta(minutes=1), tick=False):
        row = f"{record_id},sms,{sub.identifier},4533123456,{cph(at).isoformat()},,,1,,\n".encode()
        import_usage_file(brand, HEADER + row, format="csv", source="msc", actor=system, at=clock.now(),
                          name=f"{record_id}.csv")
        rate_pending(brand)
    return RatedUsage.objects.get(record_id=record_id).charge


def test_paid_on_the_renewal_day_from_the_balance(line, nord):
    sub = line("50")
    assert renew(nord) == {"paid": 1, "negative": 0, "skipped": 0, "late": 0, "before": 0, "failed": 0}
    renewal = march(sub)
    assert (renewal.status, renewal.amount, renewal.period_end) == ("paid", D("20"), dt.date(2026, 4, 1))
    assert renewal.granted_from == cph("2026-03-01")  # the bundles from the period's first moment
    assert (renewal.entry.cause, renewal.entry.amount, renewal.entry.balance_after) == ("renewal", D("-20"), D("30"))
    assert balances.balance_of(sub) == D("30")
    assert not BalanceEvent.objects.filter(subscription=sub).exists()


def test_a_second_run_takes_nothing_twice(line, nord):
    sub = line("50")
    renew(nord)
    assert renew(nord, "2026-03-01T05:00") == {"paid": 0, "negative": 0, "skipped": 0, "late": 0, "before": 0, "failed": 0}
    assert renew(nord, "2026-03-17T05:00") == {"paid": 0, "negative": 0, "skipped": 0, "late": 0, "before": 0, "failed": 0}
    assert balances.balance_of(sub) == D("30")
    assert PrepaidBalanceEntry.objects.filter(subscription=sub, cause="renewal").count() == 2  # February, March
    # the database refuses a second renewal of the period whatever a caller does
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        renewal = march(sub)
        renewal.pk = None
        renewal.entry = None
        renewal.save()


def test_go_negative_within_the_grace(line, nord):
    policy(nord, "go_negative", "10.00")
    sub = line("15")
    assert renew(nord)["negative"] == 1
    assert march(sub).status == "negative" and march(sub).granted_from == cph("2026-03-01")
    assert balances.balance_of(sub) == D("-5")


def test_go_negative_beyond_the_grace_is_skipped(line, nord):
    policy(nord, "go_negative", "10.00")
    sub = line("5")  # 5 - 20 = -15, below -10
    assert renew(nord)["skipped"] == 1
    assert (march(sub).status, march(sub).entry, march(sub).granted_from) == ("skipped", None, None)
    assert balances.balance_of(sub) == D("5")
    event = BalanceEvent.objects.get(subscription=sub, kind="renewal_skipped")
    assert (event.record_id, event.balance, event.threshold) == (f"renewal:{march(sub).pk}", D("5"), D("20"))


def test_skip_policy_keeps_the_bundles_back_notifies_and_a_top_up_renews(line, nord, system):
    policy(nord, "skip_bundles")
    sub, paying = line("5"), line("50")
    assert renew(nord) == {"paid": 1, "negative": 0, "skipped": 1, "late": 0, "before": 0, "failed": 0}
    assert march(sub).status == "skipped" and balances.balance_of(sub) == D("5")
    assert BalanceEvent.objects.filter(subscription=sub, kind="renewal_skipped").count() == 1
    # rated usage: the paying line's SMS is free (its bundle), the skipped line's is charged
    assert sms(nord, paying, "p-1", "2026-03-05T10:00", system) == D("0")
    assert sms(nord, sub, "s-1", "2026-03-05T10:00", system) == D("0.39")
    # the next hourly runs retry, still too little: one notification, not one per try
    assert renew(nord, "2026-03-06T01:05")["skipped"] == 1
    assert march(sub).attempts == 2 and BalanceEvent.objects.filter(subscription=sub).count() == 1
    [skipped] = Event.objects.filter(type="renewal.skipped")  # a domain event too, once, for the skipped line
    assert (skipped.subject_type, skipped.subject_id) == ("customers.subscription", str(sub.pk))
    assert skipped.payload["renewal_id"] == march(sub).pk and skipped.brand_id == nord.pk
    assert (D(skipped.payload["fee"]), D(skipped.payload["balance"])) == (D("20"), D("5"))
    # a top-up on the 10th pays it: the whole fee, the bundles from the payment on
    with time_machine.travel(cph("2026-03-10T12:00"), tick=False):
        balances.top_up(sub, D("30"), actor=system, at=cph("2026-03-10T12:00"))
    renewal = march(sub)
    assert (renewal.status, renewal.paid_at, renewal.granted_from) == ("paid", cph("2026-03-10T12:00"),
                                                                       cph("2026-03-10T12:00"))
    assert balances.balance_of(sub) == D("5") - D("0.39") + D("30") - D("20")
    assert sms(nord, sub, "s-2", "2026-03-10T11:00", system) == D("0.39")  # before the payment: no bundle
    assert sms(nord, sub, "s-3", "2026-03-11T09:00", system) == D("0")  # after it: the bundle
    assert renew(nord, "2026-03-12T01:05") == {"paid": 0, "negative": 0, "skipped": 0, "late": 0, "before": 0, "failed": 0}


def test_a_skipped_period_over_stays_unpaid_and_the_next_one_renews(line, nord, system):
    sub = line("5")
    renew(nord)
    PrepaidBalance.objects.filter(subscription=sub).update(balance=D("45"))  # e.g. a voucher credited
    assert renew(nord, "2026-04-01T00:30")["paid"] == 1  # April; March is over, not taken
    assert march(sub).status == "skipped"
    assert balances.balance_of(sub) == D("25")


def test_the_renewal_day_is_the_brands_local_day(line, nord):
    sub = line("50")
    # 22:30 UTC on 28 February is 23:30 in Copenhagen: still February, March is not due
    with time_machine.travel(dt.datetime(2026, 2, 28, 22, 30, tzinfo=dt.UTC), tick=False):
        assert renew_due(nord, None, actor=Actor.system("tests"), at=clock.now())["paid"] == 0
    # 23:30 UTC is 00:30 on 1 March in Copenhagen: March is due
    with time_machine.travel(dt.datetime(2026, 2, 28, 23, 30, tzinfo=dt.UTC), tick=False):
        assert renew_due(nord, None, actor=Actor.system("tests"), at=clock.now())["paid"] == 1
    assert march(sub).starts_at == dt.datetime(2026, 2, 28, 23, 0, tzinfo=dt.UTC)  # local midnight


def test_the_first_period_is_prorated_from_activation(bundled, account_for, subscribe, system):
    sub = subscribe(account_for("New Line"), "2026-03-11T10:00", plan="MOB_PRE")
    with time_machine.travel(cph("2026-03-11T10:30"), tick=False):
        balances.top_up(sub, D("50"), actor=system, at=cph("2026-03-11T10:30"))  # the top-up renews it
    renewal = march(sub)
    # 20.00 * 21 / 31 = 13.548 -> 13.55, from the activation day
    assert (renewal.status, renewal.amount, renewal.starts_at) == ("paid", D("13.55"), cph("2026-03-11"))
    assert balances.balance_of(sub) == D("36.45")


def test_the_bill_run_takes_no_prepaid_fee(line, nord, system):
    sub = line("50")
    renew(nord)
    with time_machine.travel(cph("2026-04-02T06:00"), tick=False):
        run = start_run(nord, "M01", "2026-03", (), "production", actor=system, at=cph("2026-04-02T06:00"))
        execute_run(run, at=cph("2026-04-02T06:00"))
    assert balances.balance_of(sub) == D("30")
    assert not ChargeMark.objects.filter(subscription_id=sub.pk, kind="recurring").exists()


def test_a_period_billed_by_a_run_before_renewals_is_not_renewed(line, nord):
    sub = line("50")
    from telora.billing.models import BillRun
    from telora.catalog.models import BillCycle

    instance = sub.products.get(kind="plan")
    run = BillRun.objects.create(brand=nord, kind="production", cycle=BillCycle.objects.get(brand=nord, code="M01"),
                                 period_start=dt.date(2026, 2, 1), period_end=MARCH, created_at=cph("2026-03-01"))
    ChargeMark.objects.create(brand=nord, kind="recurring", key=str(instance.pk), period_start=MARCH,
                              period_end=dt.date(2026, 4, 1), subscription_id=sub.pk, price=D("20"), run=run)
    assert renew(nord)["paid"] == 0 and balances.balance_of(sub) == D("50")


def test_bounds_and_rights(line, nord, make_user, make_brand):
    line("50")
    with pytest.raises(ServiceError) as error:
        renew(nord, "2026-03-01T00:30", day=dt.date(2026, 3, 2))
    assert error.value.field == "date" and "after today" in str(error.value)
    with pytest.raises(ServiceError) as error:
        renew(nord, "2026-03-01T00:30", day=dt.date(2025, 12, 1))
    assert error.value.field == "date"
    viewer = make_user("viewer", {nord: ["billing.view"]})
    other = make_brand("other", currency="DKK", timezone="Europe/Copenhagen", country="DK")
    elsewhere = make_user("elsewhere", {other: ["billing.view", "billing.change"]})
    for user in (viewer, elsewhere):
        with pytest.raises(PermissionDeniedError):
            renew_due(nord, None, actor=Actor(user=user), at=cph("2026-03-01T00:30"))
    assert not PrepaidRenewal.objects.filter(period_start=MARCH).exists()


def test_the_hourly_job_renews_where_billing_runs(line, nord, system):
    from telora.billing.jobs import renew_prepaid_task
    from telora.core import modules
    from telora.core.services.brands import update_brand

    sub = line("50")
    update_brand(nord, actor=system, at=clock.now(), modules_off=["billing"])
    modules.forget()  # the service forgets on commit; the test's transaction never commits
    with time_machine.travel(cph("2026-03-01T01:05"), tick=False):
        renew_prepaid_task(0)
    assert not PrepaidRenewal.objects.filter(subscription=sub, period_start=MARCH).exists()
    update_brand(nord, actor=system, at=clock.now(), modules_off=[])
    modules.forget()
    with time_machine.travel(cph("2026-03-01T01:05"), tick=False):
        renew_prepaid_task(0)
    assert march(sub).status == "paid"


def test_the_command(line, nord, capsys):
    sub = line("5")
    with time_machine.travel(cph("2026-03-01T02:00"), tick=False):
        call_command("prepaid", "renew", "--brand", "nord", "--date", "2026-03-01")
        assert "NORD: 0 paid, 0 paid into the grace (negative), 0 paid late, 1 skipped" in capsys.readouterr().out
        with pytest.raises(CommandError, match="date: '1-3-2026' is not YYYY-MM-DD"):
            call_command("prepaid", "renew", "--brand", "nord", "--date", "1-3-2026")
        with pytest.raises(CommandError, match="brand: no brand 'nope'"):
            call_command("prepaid", "renew", "--brand", "nope")
    assert march(sub).status == "skipped"


def test_a_line_migrated_in_mid_period_renews_from_the_next_period(line, nord):
    sub = line("50")
    # as the migration import records it: on since long before, recorded in Telora on 10 March
    sub.products.filter(kind="plan").update(start_at=cph("2025-06-01"), created_at=cph("2026-03-10T09:00"))
    assert renew(nord, "2026-03-10T10:00")["paid"] == 0  # March was the old system's
    assert renew(nord, "2026-04-01T00:30")["paid"] == 1
    assert balances.balance_of(sub) == D("30")
