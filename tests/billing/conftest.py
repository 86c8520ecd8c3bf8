"""Billing fixtures: the reference catalogue (DKK, VAT 25 %, cycle M01) in brand NORD, and makers of
accounts and subscriptions on it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from billing_helpers import EXAMPLES, cph

from db_helpers import kept_brand, kept_for_the_module


@pytest.fixture(autouse=True)
def no_pdf_wait(settings):
    """No worker runs beside the tests: a PDF request answers 202 with its job at once (the tests
    run the job themselves, as a worker would)."""
    settings.TELORA_PDF_WAIT_SECONDS = 0


def _nord(actor):
    from telora.catalog.models import Product, ProductCharge, ProductPrice
    from telora.catalog.services.apply import apply_catalog
    from telora.catalog.yamlio import load
    from telora.core import clock
    from telora.core.services.brands import create_brand

    brand = create_brand(actor=actor, at=clock.now(), code="NORD", name="Nordmobil", currency="DKK",
                         timezone="Europe/Copenhagen", country="DK", language="da")
    apply_catalog(load((EXAMPLES / "catalog.yaml").read_text()), actor=actor, at=clock.now(),
                  effective_from=dt.date(2024, 1, 1))
    # The prepaid plan gets a monthly fee (taken from the balance on renewal).
    pre = Product.objects.get(brand=brand, code="MOB_PRE")
    charge = ProductCharge.objects.create(brand=brand, product=pre, code="recurring", kind="recurring")
    ProductPrice.objects.create(brand=brand, charge=charge, amount=Decimal("20.00"), valid_from=dt.date(2024, 1, 1))
    return brand


@pytest.fixture(scope="module")
def nord_kept(django_db_setup, django_db_blocker):
    """NORD built once for a module that asks for it (pytestmark usefixtures("nord_kept")): applying
    the catalogue takes about a second; each test rolls back to it (db_helpers.kept_for_the_module)."""
    from telora.core.services import Actor

    with kept_for_the_module(django_db_blocker):
        yield _nord(Actor.system("tests"))


@pytest.fixture
def nord(request, db, system):
    return kept_brand(request, "NORD") or _nord(system)


@pytest.fixture
def account_for(nord, system):
    """account_for("Name") -> a billing account on cycle M01 (its customer has legal, billing and
    installation addresses)."""
    from telora.catalog.models import BillCycle
    from telora.customers import services as s

    start = cph("2026-01-01")

    def make(name, group=None):
        first, _, last = name.partition(" ")
        customer = s.create_customer(nord, actor=system, at=start, kind="private", first_name=first,
                                     last_name=last or "Kunde", email="k@example.com", phone="")
        s.add_address(customer, actor=system, at=start, street1="Vestergade 1", postcode="1456", city="København",
                      country="DK", roles=["legal", "billing", "installation"])
        return s.create_billing_account(customer, actor=system, at=start,
                                        bill_cycle=BillCycle.objects.get(brand=nord, code="M01"),
                                        **({"billing_group": group} if group else {}))

    return make


@pytest.fixture
def subscribe(nord, system):
    """subscribe(account, "2026-03-11", plan="FIBER_500") -> an active subscription from that moment."""
    from stdnum import luhn

    from telora.customers import services as s
    from telora.inventory.models import PhoneNumber
    from telora.inventory.services import create_sim

    made = {"n": 0}

    def make(account, at, plan="MOB_POST_BASIC", addons=(), one_time=()):
        made["n"] += 1
        n = made["n"]
        at = cph(at) if isinstance(at, str) else at
        common = dict(actor=system, at=at, billing_account=account, plan=plan, addons=list(addons),
                      one_time=list(one_time))
        if plan == "FIBER_500":
            return s.create_subscription(account.customer, service_type="fiber", identifier=f"CIRCUIT-{n}", **common)
        phone = PhoneNumber.objects.create(brand=nord, number=f"4520{n:06d}", created_at=at, updated_at=at)
        body = f"89451000{n:010d}"
        create_sim(nord, actor=system, at=at, iccid=body + luhn.calc_check_digit(body), imsi=f"23801{n:010d}",
                   sim_type="usim-4g")
        kind = "mobile_prepaid" if plan == "MOB_PRE" else "mobile_postpaid"
        return s.create_subscription(account.customer, service_type=kind, number=phone, **common)

    return make


@pytest.fixture
def rated(nord):
    """rated(subscription, "2026-03-05T10:00", "voice", "DK", "1.234567", quantity=60): one rated record."""
    from telora.rating.models import RatedUsage
    from telora.rating.services.storage import ensure_partitions

    made = {"n": 0}

    def make(subscription, at, service, zone, charge, quantity=1):
        made["n"] += 1
        start = cph(at)
        ensure_partitions([start])
        return RatedUsage.objects.create(
            brand=nord, source="test", record_id=f"r{made['n']}", subscription=subscription, service=service,
            a_number=subscription.identifier, b_number="4533000000", start_time=start, usage=quantity,
            quantity=quantity, zone=zone, discount=Decimal(0), charge=Decimal(charge), currency="DKK", file_id=0,
            batch_id=0)

    return make
