"""Pure fixtures for the rating tests: no database."""

from __future__ import annotations

import pytest
from rating_helpers import reference_tariff

from telora.rating.engine import Rater


@pytest.fixture(scope="session")
def reference():
    """The reference catalogue (docs/examples/catalog.yaml) as a compiled tariff."""
    return reference_tariff()


@pytest.fixture
def reference_rater(reference):
    return Rater(reference, home_country="DK")


# ---- database fixtures (the pipeline tests): the reference catalogue in a DK brand ------------

REFERENCE_DAY0 = "2024-01-01"
LINES_FROM = "2026-01-01T00:00:00+00:00"


def _reference_brand(actor):
    import datetime as dt

    from rating_helpers import CATALOG

    from telora.catalog.services.apply import apply_catalog
    from telora.catalog.yamlio import load
    from telora.core import clock
    from telora.core.services.brands import create_brand

    brand = create_brand(actor=actor, at=clock.now(), code="NORD", name="Nordmobil", currency="DKK",
                         timezone="Europe/Copenhagen", country="DK", language="da")
    data = load(CATALOG.read_text())
    apply_catalog(data, actor=actor, at=clock.now(), effective_from=dt.date.fromisoformat(REFERENCE_DAY0))
    return brand


@pytest.fixture(scope="module")
def nord_kept(django_db_setup, django_db_blocker):
    """NORD built once for a module that asks for it (pytestmark usefixtures("nord_kept")): applying
    the catalogue takes about a second; each test rolls back to it (db_helpers.kept_for_the_module)."""
    from db_helpers import kept_for_the_module
    from telora.core.services import Actor

    with kept_for_the_module(django_db_blocker):
        yield _reference_brand(Actor.system("tests"))


@pytest.fixture
def nord(request, db, system):
    """The reference brand (DK) with the reference catalogue from 2024-01-01."""
    from db_helpers import kept_brand

    return kept_brand(request, "NORD") or _reference_brand(system)


@pytest.fixture
def line_for(nord, system):
    """line_for("4520000001", plan="MOB_POST_BASIC") -> an active subscription holding the number
    since 2026-01-01 (before every example record)."""
    import datetime as dt

    from stdnum import luhn

    from telora.customers import services as s
    from telora.inventory.models import PhoneNumber
    from telora.inventory.services import create_sim

    start = dt.datetime.fromisoformat(LINES_FROM)
    made = {"n": 0}

    def make(number, plan="MOB_POST_BASIC", addons=(), service_type=None):
        made["n"] += 1
        n = made["n"]
        # The examples' numbers are fictional (phonenumbers says invalid): put them in stock directly.
        phone = PhoneNumber.objects.create(brand=nord, number=number, created_at=start, updated_at=start)
        body = f"89451000{n:010d}"
        create_sim(nord, actor=system, at=start, iccid=body + luhn.calc_check_digit(body), imsi=f"23801{n:010d}",
                   sim_type="usim-4g")
        customer = s.create_customer(nord, actor=system, at=start, kind="private", first_name="Kunde",
                                     last_name=f"Nummer {n}", email=f"kunde{n}@example.com", phone="")
        s.add_address(customer, actor=system, at=start, street1="Vestergade 1", postcode="1456", city="København",
                      country="DK", roles=["legal", "billing"])
        s.create_billing_account(customer, actor=system, at=start)
        kind = service_type or ("mobile_prepaid" if plan == "MOB_PRE" else "mobile_postpaid")
        return s.create_subscription(customer, actor=system, at=start, billing_account=customer.accounts.get(),
                                     service_type=kind, plan=plan, addons=list(addons), number=phone)

    return make
