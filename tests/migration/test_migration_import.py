"""The migration import: the sample base imports into nordlink, a second run changes nothing,
a dry run lists every bad row and writes nothing, a bad row refuses its file whole."""

from decimal import Decimal

import pytest

from telora.billing.models import ARLedgerEntry
from telora.core import clock
from telora.core.models import AuditEvent
from telora.customers.models import (
    Address,
    BillingAccount,
    Contact,
    Customer,
    NumberAssignment,
    ProductInstance,
    Subscription,
)
from telora.inventory.models import PhoneNumber, SimCard
from telora.migration.models import OpeningReceivable, SourceMapping
from telora.migration.services import run_import
from telora.rating.models import BundleCounter, PrepaidBalance, PrepaidBalanceEntry

from .conftest import sample_files

pytestmark = pytest.mark.usefixtures("nordlink_kept")

MODELS = (Customer, Address, Contact, BillingAccount, Subscription, ProductInstance, NumberAssignment, PhoneNumber,
          SimCard, PrepaidBalance, PrepaidBalanceEntry, BundleCounter, ARLedgerEntry, OpeningReceivable,
          SourceMapping)


def counts():
    return {m.__name__: m.objects.count() for m in MODELS}


def mapped(entity, source_id):
    return SourceMapping.objects.get(entity=entity, source_id=source_id).object_id


def edit(folder, name, old, new):
    path = folder / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def files_of(folder):
    return [(p.name, p.read_bytes()) for p in sorted(folder.glob("*.csv"))]


@pytest.mark.django_db
def test_sample_base_imports_into_nordlink(nordlink, system):
    report = run_import(nordlink, sample_files(), actor=system, at=clock.now())
    assert report.ok, [str(e) for e in report.errors]
    assert {f.entity: f.imported for f in report.files} == {
        "customer": 9, "address": 10, "contact": 3, "account": 9, "subscription": 14, "product": 6, "balance": 2,
        "usage": 6, "receivable": 4}

    business = Customer.objects.get(pk=mapped("customer", "OLD-C-1009"))
    assert business.parent_id == mapped("customer", "OLD-C-1007") and business.customer_group.code == "SME"
    assert Customer.objects.filter(brand=nordlink).values_list("number", flat=True).count() == 9
    account = BillingAccount.objects.get(pk=mapped("account", "OLD-B-1004"))
    assert (account.bill_cycle.code, account.currency, account.invoice_delivery) == ("M15", "DKK", "print")
    assert account.billing_address_id == mapped("address", "OLD-A-2004")
    assert account.number == f"{account.customer.number}-1"

    line = Subscription.objects.get(pk=mapped("subscription", "OLD-S-5002"))
    assert (line.identifier, line.status) == ("4520123402", "active")
    assert line.activated_at.isoformat() == "2022-11-03T08:00:00+00:00"  # 09:00 in Copenhagen
    assert line.phone_number.status == "allocated" and line.sim.status == "allocated"
    assert line.sim.imsi == "238010000000002"
    plans = list(line.products.order_by("start_at").values_list("product__code", "end_reason"))
    assert plans == [("MOB_POST_10GB", "plan_change"), ("MOB_POST_BASIC", "")]
    history = NumberAssignment.objects.get(subscription=line)
    assert history.valid_from == line.activated_at and history.valid_to is None

    ended = Subscription.objects.get(pk=mapped("subscription", "OLD-S-5007"))
    assert ended.status == "terminated" and ended.sim_id is None and ended.phone_number_id is None
    assert NumberAssignment.objects.get(subscription=ended).valid_to == ended.terminated_at
    assert not PhoneNumber.objects.filter(number=ended.identifier).exists()

    prepaid = Subscription.objects.get(pk=mapped("subscription", "OLD-S-5003"))
    assert PrepaidBalance.objects.get(subscription=prepaid).balance == Decimal("87.50")
    entry = PrepaidBalanceEntry.objects.get(subscription=prepaid)
    assert (entry.amount, entry.balance_after, entry.cause) == (Decimal("87.50"), Decimal("87.50"), "adjustment")

    sub = Subscription.objects.get(pk=mapped("subscription", "OLD-S-5001"))
    plan = ProductInstance.objects.get(subscription=sub, kind="plan")
    counter = BundleCounter.objects.get(subscription=sub, code="DATA_10GB")
    assert (counter.bundle, counter.used, counter.allowance) == (f"{plan.pk}:DATA_10GB", 3221225472, 0)
    assert counter.period_start == clock.today(nordlink).replace(day=1)  # cycle M01 (group CONSUMER)

    owed = OpeningReceivable.objects.get(number="F-2026-90014")
    assert (owed.amount, str(owed.due_date), owed.ledger_entry.cause) == (Decimal("1249.50"), "2026-12-15", "invoice")
    assert ARLedgerEntry.objects.filter(account_id=mapped("account", "OLD-B-1005")).count() == 2

    events = AuditEvent.objects.filter(action="migration_import", brand=nordlink)
    assert events.count() == 9
    customers_event = events.get(changes__entity__1="customer")
    assert customers_event.changes["rows"][1] == 9 and "OLD-C-1001" in customers_event.changes["source_ids"][1]


@pytest.mark.django_db
def test_a_second_run_changes_nothing(nordlink, system):
    assert run_import(nordlink, sample_files(), actor=system, at=clock.now()).ok
    before = counts()
    again = run_import(nordlink, sample_files(), actor=system, at=clock.now())
    assert again.ok
    assert counts() == before
    assert {f.status for f in again.files} == {"already imported"}
    assert sum(f.already for f in again.files) == sum(f.rows for f in again.files)


@pytest.mark.django_db
def test_dry_run_lists_every_bad_row_and_writes_nothing(nordlink, system, sample_dir):
    edit(sample_dir, "customers.csv", "mette.jensen@example.dk", "mette.jensen-at-example")
    edit(sample_dir, "accounts.csv", "OLD-B-1002,OLD-C-1002,,CONSUMER,email", "OLD-B-1002,OLD-C-1002,M99,CONSUMER,email")
    edit(sample_dir, "subscriptions.csv", "2024-05-20T15:40:00", "2024-05-32T15:40:00")
    edit(sample_dir, "receivables.csv", "1249.50,DKK", "1249.50,EUR")
    before = counts()
    report = run_import(nordlink, files_of(sample_dir), actor=system, at=clock.now(), dry_run=True)
    assert not report.ok
    assert [(e.file, e.line, e.field) for e in report.errors] == [
        ("customers.csv", 2, "email"), ("accounts.csv", 3, "bill_cycle"), ("subscriptions.csv", 4, "activated_at"),
        ("receivables.csv", 5, "currency")]
    assert "not a valid e-mail address" in report.errors[0].reason
    assert str(report.errors[3]) == "receivables.csv:5: currency: EUR is not the account's currency DKK"
    # rows of a refused one are skipped, not listed; later files are checked against the rows that would go in
    files = {f.name: f for f in report.files}
    assert files["addresses.csv"].skipped == 1 and files["addresses.csv"].imported == 9
    assert files["usage.csv"].status == "checked" and files["usage.csv"].skipped == 3
    assert counts() == before


@pytest.mark.django_db
def test_a_failing_row_rolls_its_file_back_whole(nordlink, system, sample_dir):
    edit(sample_dir, "subscriptions.csv", "+45 20 12 34 14", "+45 20 12 34 13")  # the number of line 14 again
    before = counts()
    report = run_import(nordlink, files_of(sample_dir), actor=system, at=clock.now())
    assert not report.ok
    assert [str(e) for e in report.errors] == [
        "subscriptions.csv:15: number: +4520123413 was held by another subscription over these dates"]
    status = {f.entity: f.status for f in report.files}
    assert status["account"] == "imported" and status["subscription"] == "refused"
    assert status["product"] == status["receivable"] == "not run"
    after = counts()
    assert after["Subscription"] == after["PhoneNumber"] == after["SimCard"] == after["ProductInstance"] == 0
    assert after["Customer"] == before["Customer"] + 9
    # fixed, the same files go on from where they stopped
    edit(sample_dir, "subscriptions.csv", "+45 20 12 34 13,8945010000000000147", "+45 20 12 34 14,8945010000000000147")
    again = run_import(nordlink, files_of(sample_dir), actor=system, at=clock.now())
    assert again.ok, [str(e) for e in again.errors]
    assert {f.entity: f.already for f in again.files}["customer"] == 9
    assert Subscription.objects.count() == 14


@pytest.mark.django_db
def test_chunks_commit_with_a_checkpoint_and_json_lines(nordlink, system):
    from telora.migration.models import FileCheckpoint

    lines = [
        '{"entity": "customers", "source_id": "J1", "kind": "private", "first_name": "Ea", "last_name": "Holm", '
        '"email": "ea@example.dk"}',
        '{"entity": "customers", "source_id": "J2", "kind": "private", "first_name": "Bo", "last_name": "Holm", '
        '"email": "bo@example.dk"}',
        '{"entity": "customers", "source_id": "J3", "kind": "business", "company_name": "Holm ApS", '
        '"email": "holm@example.dk"}',
        '{"entity": "accounts", "source_id": "JB1", "customer_id": "J3"}',
    ]
    report = run_import(nordlink, [("base.jsonl", "\n".join(lines).encode())], actor=system, at=clock.now(),
                        source_system="oldbss", chunk_rows=2)
    assert report.ok, [str(e) for e in report.errors]
    assert Customer.objects.count() == 3 and BillingAccount.objects.count() == 1
    checkpoint = FileCheckpoint.objects.get(entity="customer")
    assert (checkpoint.lines_done, checkpoint.done) == (3, True)
    assert AuditEvent.objects.filter(action="migration_import", changes__entity__1="customer").count() == 2


@pytest.mark.django_db
def test_a_file_the_database_refuses_is_rolled_back_whole(nordlink, system):
    # a customer entered outside the sequence holds the number the import's second customer would get
    Customer.objects.create(brand=nordlink, number="C0000002", kind="private", name="Outside", last_name="Outside",
                            language="da", created_at=clock.now(), updated_at=clock.now())
    files = [("customers.csv", b"source_id,kind,last_name\nN1,private,Holm\nN2,private,Lund\nN3,private,Dam\n"),
             ("accounts.csv", b"source_id,customer_id,invoice_delivery\nNB1,N1,print\n")]
    report = run_import(nordlink, files, actor=system, at=clock.now())
    assert not report.ok
    assert [(e.file, e.field) for e in report.errors] == [("customers.csv", "file")]
    assert "the database refused it" in report.errors[0].reason
    assert [f.status for f in report.files] == ["failed", "not run"]
    assert Customer.objects.count() == 1 and SourceMapping.objects.count() == 0
    assert not AuditEvent.objects.filter(action="migration_import").exists()


@pytest.mark.django_db
def test_stock_the_inventory_holds_is_allocated_not_duplicated(nordlink, system):
    from telora.inventory.services import create_sim, import_numbers

    import_numbers(nordlink, b"number,status\n+45 20 12 34 01,allocated\n+45 20 12 34 02,\n", actor=system,
                   at=clock.now(), file_name="numbers.csv")
    create_sim(nordlink, actor=system, at=clock.now(), iccid="8945010000000000014", imsi="238010000000001",
               pin1="1234", puk1="12345678")
    numbers = {p.number: p.pk for p in PhoneNumber.objects.all()}
    report = run_import(nordlink, sample_files(), actor=system, at=clock.now())
    assert report.ok, [str(e) for e in report.errors]
    first = Subscription.objects.get(pk=mapped("subscription", "OLD-S-5001"))
    second = Subscription.objects.get(pk=mapped("subscription", "OLD-S-5002"))
    assert first.phone_number_id == numbers["4520123401"] and second.phone_number_id == numbers["4520123402"]
    assert PhoneNumber.objects.get(pk=numbers["4520123402"]).status == "allocated"
    assert first.sim.iccid == "8945010000000000014" and SimCard.objects.filter(iccid=first.sim.iccid).count() == 1
    assert first.sim.sealed_secrets  # the PIN and PUK imported beforehand stay with the card


@pytest.mark.django_db
def test_one_import_at_a_time_per_brand(nordlink, system):
    import psycopg
    from django.db import connection

    from telora.core.services import ServiceError

    s = connection.settings_dict
    with psycopg.connect(f"postgresql://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}", autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(hashtext(%s))", [f"telora.migration:{nordlink.pk}"])
        with pytest.raises(ServiceError, match="another migration import into nordlink is running"):
            run_import(nordlink, sample_files(), actor=system, at=clock.now(), dry_run=True)
        other.execute("SELECT pg_advisory_unlock(hashtext(%s))", [f"telora.migration:{nordlink.pk}"])
    assert run_import(nordlink, sample_files(), actor=system, at=clock.now(), dry_run=True).ok


@pytest.mark.django_db
def test_a_chunked_file_keeps_its_committed_chunks_and_resumes_after_them(nordlink, system):
    blocker = Customer.objects.create(brand=nordlink, number="C0000003", kind="private", name="Outside",
                                      last_name="Outside", language="da", created_at=clock.now(),
                                      updated_at=clock.now())
    files = [("customers.csv", b"source_id,kind,last_name\nK1,private,Holm\nK2,private,Lund\nK3,private,Dam\n"
                               b"K4,private,Berg\n")]
    first = run_import(nordlink, files, actor=system, at=clock.now(), chunk_rows=2)
    assert [f.status for f in first.files] == ["failed"] and first.files[0].imported == 2
    assert set(SourceMapping.objects.values_list("source_id", flat=True)) == {"K1", "K2"}
    blocker.delete()
    again = run_import(nordlink, files, actor=system, at=clock.now(), chunk_rows=2)
    assert again.ok
    (report,) = again.files
    assert (report.already, report.imported, report.resumed_after) == (2, 2, 3)
    assert sorted(Customer.objects.values_list("number", flat=True)) == [f"C000000{n}" for n in range(1, 5)]


@pytest.fixture
def small_slices(monkeypatch):
    """Whole files handed from the checks to the writes two rows at a time (as 1,000 in a large file)."""
    from telora.migration.services import runner

    monkeypatch.setattr(runner, "SLICE_ROWS", 2)


CUSTOMERS = (b"source_id,kind,last_name,email\nW1,private,Holm,w1@example.dk\nW2,private,Lund,w2@example.dk\n"
             b"W3,private,Dam,w3@example.dk\nW4,private,Berg,w4-at-example\nW5,private,Bak,w5@example.dk\n"
             b"W6,private,,w6@example.dk\n")


@pytest.mark.django_db
def test_a_bad_row_after_written_slices_rolls_the_whole_file_back(nordlink, system, small_slices):
    before = counts()
    report = run_import(nordlink, [("customers.csv", CUSTOMERS)], actor=system, at=clock.now())
    # the first slice (W1, W2) was written before W4 was checked: it goes too, and every bad row is listed
    assert [str(e) for e in report.errors] == ["customers.csv:5: email: 'w4-at-example' is not a valid e-mail address",
                                               "customers.csv:7: last_name: is required"]
    assert [(f.status, f.imported, f.bad) for f in report.files] == [("refused", 0, 2)]
    assert counts() == before
    assert not AuditEvent.objects.filter(action="migration_import").exists()
    fixed = CUSTOMERS.replace(b"w4-at-example", b"w4@example.dk").replace(b"W6,private,,", b"W6,private,Ry,")
    again = run_import(nordlink, [("customers.csv", fixed)], actor=system, at=clock.now())
    assert again.ok and again.files[0].imported == 6
    assert sorted(Customer.objects.values_list("number", flat=True)) == [f"C000000{n}" for n in range(1, 7)]
    (event,) = AuditEvent.objects.filter(action="migration_import")
    assert event.changes["rows"][1] == 6 and event.changes["source_ids"][1] == [f"W{n}" for n in range(1, 7)]


@pytest.mark.django_db
def test_a_slice_the_database_refuses_takes_the_written_ones_with_it(nordlink, system, small_slices):
    # the number the fifth customer would get is taken: the third slice fails after two were written
    Customer.objects.create(brand=nordlink, number="C0000005", kind="private", name="Outside", last_name="Outside",
                            language="da", created_at=clock.now(), updated_at=clock.now())
    fixed = CUSTOMERS.replace(b"w4-at-example", b"w4@example.dk").replace(b"W6,private,,", b"W6,private,Ry,")
    report = run_import(nordlink, [("customers.csv", fixed)], actor=system, at=clock.now())
    assert [(f.status, f.imported) for f in report.files] == [("failed", 0)]
    assert report.errors[0].field == "file" and "the database refused it" in report.errors[0].reason
    assert Customer.objects.count() == 1 and SourceMapping.objects.count() == 0


@pytest.mark.django_db
def test_row_checks_may_not_query_the_database(nordlink, system, monkeypatch):
    """Checks run beside the writes, without a connection of their own: what they need is loaded first."""
    from telora.migration.services.parties import CustomerKind

    checked = CustomerKind.check

    def querying(self, ctx, row):
        Customer.objects.exists()
        return checked(self, ctx, row)

    monkeypatch.setattr(CustomerKind, "check", querying)
    with pytest.raises(RuntimeError, match="load what checks need in Kind.prepare"):
        run_import(nordlink, [("customers.csv", CUSTOMERS)], actor=system, at=clock.now())
    assert Customer.objects.count() == 0


@pytest.mark.django_db
def test_where_the_role_may_not_switch_the_key_triggers_off_the_same_rows_are_imported_checked_per_row(
        nordlink, system, monkeypatch):
    import telora.core.bulk_keys as bulk_keys

    asked = []
    monkeypatch.setattr(bulk_keys, "may_check_at_end", lambda tables: asked.append(tables) or False)
    before = counts()
    report = run_import(nordlink, sample_files(), actor=system, at=clock.now())
    assert report.ok, [str(e) for e in report.errors]
    assert asked and {"customers_subscription", "migration_sourcemapping"} <= set().union(*asked)
    added = {name: n - before[name] for name, n in counts().items()}
    # 13 numbered lines, one of them terminated (its history only), 10 live mobile lines
    assert added == {"Customer": 9, "Address": 10, "Contact": 3, "BillingAccount": 9, "Subscription": 14,
                     "ProductInstance": 20, "NumberAssignment": 13, "PhoneNumber": 12, "SimCard": 10,
                     "PrepaidBalance": 2, "PrepaidBalanceEntry": 2, "BundleCounter": 6, "ARLedgerEntry": 4,
                     "OpeningReceivable": 4, "SourceMapping": 63}
