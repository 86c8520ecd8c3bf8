"""Privacy fixtures: a brand with the demo catalogue, a customer (ann) with everything a customer can
have (contact, addresses, account, a line, a file, usage, a failed record, an invoice with its ledger,
a consent) and a second customer (bob) of the same brand whose data must never leak into ann's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from privacy_helpers import make_customer, usage
from stdnum import luhn

from db_helpers import BRAND_A, kept_for_the_module, uses_kept
from telora.catalog.services.apply import apply_catalog
from telora.catalog.yamlio import load
from telora.core import clock
from telora.core.services import Actor
from telora.core.services.brands import create_brand
from telora.customers.demo import CATALOG
from telora.inventory.services import create_number, create_sim

PDF = b"%PDF-1.4\n% a scanned passport\n%%EOF\n"


def _catalogue(brand, actor):
    data = load(CATALOG.read_text())
    data["brand"] = {"code": brand.code, "name": brand.name, "currency": brand.currency, "timezone": brand.timezone,
                     "country": brand.country, "language": brand.language}
    apply_catalog(data, actor=actor, at=clock.now(), effective_from=dt.date(2024, 1, 1))


def _stock(brand, actor, numbers, offset):
    for number in numbers:
        create_number(brand, number, actor=actor, at=clock.now())
    for n in range(offset, offset + len(numbers)):
        body = f"8931440400{n:08d}"
        create_sim(brand, actor=actor, at=clock.now(), iccid=body + luhn.calc_check_digit(body),
                   imsi=f"20408{n:010d}", sim_type="usim-4g")


@pytest.fixture(scope="module")
def shop_kept(django_db_setup, django_db_blocker):
    """The shop built once for a module that asks for it (pytestmark usefixtures("shop_kept"));
    each test rolls back to it (db_helpers.kept_for_the_module)."""
    with kept_for_the_module(django_db_blocker):
        actor = Actor.system("tests")
        brand = create_brand(actor=actor, at=clock.now(), **BRAND_A)
        _catalogue(brand, actor)
        _stock(brand, actor, ("+31 6 10000001", "+31 6 10000002"), 0)
        yield brand


@pytest.fixture
def shop(request, brand_a, system, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    if not uses_kept(request, "shop_kept"):
        _catalogue(brand_a, system)
        _stock(brand_a, system, ("+31 6 10000001", "+31 6 10000002"), 0)
    return brand_a


@pytest.fixture
def other_shop(brand_b, system):
    _catalogue(brand_b, system)
    return brand_b


@pytest.fixture
def ann(shop, system):
    from telora.billing.models import ARLedgerEntry, BillRun, Invoice
    from telora.customers.services.files import upload_customer_file
    from telora.privacy.services import record_consent
    from telora.rating.models import FailedRecord

    customer = make_customer(shop, system, first="Annabel", last="Vermeulen", email="annabel@example.com",
                             phone="06 1234 5678", street="Prinsengracht 263", number=True)
    line = customer.subscriptions.get()
    now = clock.now()
    usage(line, now - dt.timedelta(days=2), "31207654321", "ann-1")
    FailedRecord.objects.create(brand=shop, source="test", record_id="ann-f1", reason="no_rate", detail="no rate",
                                original={"a_number": line.identifier, "b_number": "31201112223",
                                          "start_time": now.isoformat()},
                                created_at=now)
    upload_customer_file(customer, PDF, actor=system, at=now, name="annabel-passport.pdf",
                         content_type="application/pdf")
    account = customer.accounts.get()
    run = BillRun.objects.create(brand=shop, kind="production", status="done", cycle=account.bill_cycle,
                                 period_start=dt.date(2026, 10, 1), period_end=dt.date(2026, 10, 31), created_at=now)
    invoice = Invoice.objects.create(
        brand=shop, run=run, account=account, number="INV-2026-0001", status="final", period_start=run.period_start,
        period_end=run.period_end, issue_date=dt.date(2026, 11, 1), due_date=dt.date(2026, 11, 15), currency="EUR",
        net=Decimal("10.00"), tax=Decimal("2.10"), total=Decimal("12.10"),
        document={"customer": {"name": "Annabel Vermeulen", "address": ["Prinsengracht 263"]}}, created_at=now)
    ARLedgerEntry.objects.create(brand=shop, account=account, amount=Decimal("12.10"), currency="EUR",
                                 cause="invoice", invoice=invoice, at=now)
    ARLedgerEntry.objects.create(brand=shop, account=account, amount=Decimal("-12.10"), currency="EUR",
                                 cause="payment", reference="bank 2026-11-10", at=now)
    record_consent(customer, actor=system, at=now, purpose="marketing_email", granted=True, channel="shop",
                   source="signed form 17")
    return customer


@pytest.fixture
def bob(shop, system):
    customer = make_customer(shop, system, first="Bartholomew", last="Jansen", email="bartholomew@example.com",
                             phone="06 8765 4321", street="Keizersgracht 99", number=True)
    usage(customer.subscriptions.get(), clock.now() - dt.timedelta(days=1), "31309998887", "bob-1")
    return customer


