"""What the old system billed comes with the migration (docs/migration.md, "What the old system
billed"): the first bill run neither bills a migrated line's one-time charges again nor the recurring
periods through the account's billed_through; without billed_through recurring fees bill as before."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from telora.billing import engine
from telora.billing.models import ChargeMark
from telora.billing.services.snapshot import Loader, period_of
from telora.core import clock
from telora.customers.models import BillingAccount, ProductInstance
from telora.migration.models import SourceMapping
from telora.migration.services import run_import

from .conftest import sample_files

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nordlink_kept")]


def files_of(folder):
    return [(p.name, p.read_bytes()) for p in sorted(folder.glob("*.csv"))]


def set_billed_through(folder, account, value):
    """accounts.csv with `value` as the account's billed_through (the last column)."""
    path = folder / "accounts.csv"
    lines = path.read_text().splitlines()
    for n, line in enumerate(lines):
        if line.startswith(f"{account},"):
            lines[n] = line.rsplit(",", 1)[0] + f",{value}"
    path.write_text("\n".join(lines) + "\n")


def draft(brand, account_source, month="2026-10") -> engine.Draft:
    """The invoice draft billing would make of the account for its cycle's period starting in `month`."""
    pk = SourceMapping.objects.get(entity="account", source_id=account_source).object_id
    cycle = BillingAccount.objects.get(pk=pk).bill_cycle
    loader = Loader(brand, cycle, period_of(cycle, month))
    try:
        [account] = loader.accounts([pk])
        snap, _ = loader.snapshot(account)
    finally:
        loader.close()
    return engine.generate(snap)


def lines(d: engine.Draft, *kinds):
    return [line for section in d.sections for line in section.lines if line.kind in kinds]


def test_a_migrated_lines_activation_fee_and_billed_periods_are_not_billed_again(nordlink, system):
    assert run_import(nordlink, sample_files(), actor=system, at=clock.now()).ok
    # OLD-S-5001 (MOB_POST_10GB, activated 2023, with the EU roaming add-on) billed through 2026-10-31
    d = draft(nordlink, "OLD-B-1001")
    assert lines(d, "one_time") == []
    recurring = lines(d, "recurring", "proration")
    assert {(line.period_start, line.period_end) for line in recurring} == {(dt.date(2026, 11, 1),
                                                                               dt.date(2026, 12, 1))}
    assert len(recurring) == 2  # the plan and the add-on, November in advance only
    # the marks carry no bill run: the old system billed them
    plan = ProductInstance.objects.get(subscription__identifier="4520123401", kind="plan")
    marks = ChargeMark.objects.filter(subscription_id=plan.subscription_id)
    assert marks.filter(run__isnull=False).count() == 0
    assert marks.filter(kind="one_time", key__startswith=f"{plan.pk}:").exists()
    assert marks.filter(kind="recurring", key=str(plan.pk), period_start=dt.date(2026, 10, 1)).get().price > 0


def test_recurring_billed_through_a_date_bills_from_the_next_day(nordlink, system, sample_dir):
    set_billed_through(sample_dir, "OLD-B-1001", "2026-09-30")
    assert run_import(nordlink, files_of(sample_dir), actor=system, at=clock.now()).ok
    d = draft(nordlink, "OLD-B-1001")
    starts = sorted({line.period_start for line in lines(d, "recurring", "proration")})
    assert starts == [dt.date(2026, 10, 1), dt.date(2026, 11, 1)]  # October (not billed yet) and November
    assert lines(d, "one_time") == []
    # a run for September bills only October in advance: September was billed by the old system
    september = draft(nordlink, "OLD-B-1001", "2026-09")
    assert {line.period_start for line in lines(september, "recurring", "proration")} == {dt.date(2026, 10, 1)}


def test_without_billed_through_recurring_fees_bill_as_for_a_new_line(nordlink, system, sample_dir):
    set_billed_through(sample_dir, "OLD-B-1001", "")
    assert run_import(nordlink, files_of(sample_dir), actor=system, at=clock.now()).ok
    d = draft(nordlink, "OLD-B-1001")
    starts = sorted({line.period_start for line in lines(d, "recurring", "proration")})
    assert starts == [dt.date(2026, 10, 1), dt.date(2026, 11, 1)]
    assert lines(d, "one_time") == []  # one-time charges were billed by the old system all the same
    account = SourceMapping.objects.get(entity="account", source_id="OLD-B-1001").object_id
    assert not ChargeMark.objects.filter(kind="recurring", subscription__billing_account_id=account).exists()


def test_a_second_run_writes_no_marks_again(nordlink, system):
    assert run_import(nordlink, sample_files(), actor=system, at=clock.now()).ok
    before = ChargeMark.objects.count()
    assert before > 0
    assert run_import(nordlink, sample_files(), actor=system, at=clock.now()).ok
    assert ChargeMark.objects.count() == before


def test_a_dry_run_names_a_bad_billed_through_by_file_line_and_column(nordlink, system, sample_dir):
    set_billed_through(sample_dir, "OLD-B-1001", "2026-10-32")
    set_billed_through(sample_dir, "OLD-B-1002", "2026-10-30")
    set_billed_through(sample_dir, "OLD-B-1005", "2099-12-31")
    report = run_import(nordlink, files_of(sample_dir), actor=system, at=clock.now(), dry_run=True)
    errors = [e for e in report.errors if e.file == "accounts.csv"]
    assert [(e.line, e.field) for e in errors] == [(2, "billed_through"), (3, "billed_through"),
                                                   (6, "billed_through")]
    assert "is not a date" in errors[0].reason
    assert "not the last day of a bill period" in errors[1].reason and "2026-10-01 to 2026-10-31" in errors[1].reason
    assert "cannot have billed that far ahead" in errors[2].reason
    assert ChargeMark.objects.count() == 0


def test_an_add_on_ended_after_the_migration_is_credited_what_the_old_system_billed(nordlink, system):
    assert run_import(nordlink, sample_files(), actor=system, at=clock.now()).ok
    add_on = ProductInstance.objects.get(subscription__identifier="4520123401", kind="addon")
    ended = dt.datetime(2026, 10, 20, tzinfo=ZoneInfo(nordlink.timezone))
    ProductInstance.objects.filter(pk=add_on.pk).update(end_at=ended, end_reason="removed")
    d = draft(nordlink, "OLD-B-1001")
    [credit] = lines(d, "credit")
    # October was billed by the old system at 39.00: 12 of its 31 days (20 October on) come back
    assert (credit.period_start, credit.period_end, credit.quantity) == (dt.date(2026, 10, 20),
                                                                        dt.date(2026, 11, 1), 12)
    assert credit.amount == Decimal("-15.10")
    assert [line.description for line in lines(d, "recurring")] == ["Mobil 10 GB"]  # no add-on in November
