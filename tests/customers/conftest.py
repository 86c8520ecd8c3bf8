"""Customers fixtures: a brand with the demo catalogue (plus rule-bearing add-ons), SIMs and numbers,
a customer with a billing account, and JSON API clients."""

import datetime as dt

import pytest
from stdnum import luhn

from api_client import ApiClient
from db_helpers import BRAND_A, kept_for_the_module, uses_kept
from telora.catalog.services.apply import apply_catalog
from telora.catalog.yamlio import load
from telora.core import clock
from telora.core.services import Actor
from telora.core.services.brands import create_brand
from telora.customers import services as s
from telora.customers.demo import CATALOG
from telora.inventory.services import create_number, create_sim

DAY0 = dt.date(2024, 1, 1)
EXTRA_PRODUCTS = [
    {"code": "DATA_S", "name": "Extra 5 GB", "kind": "addon", "service_type": "mobile_postpaid", "recurring": "10.00",
     "rules": {"requires_any": ["MOB_POST_10GB", "MOB_POST_BASIC"], "at_most": {"count": 1, "of": ["DATA_S", "DATA_L"]}}},
    {"code": "DATA_L", "name": "Extra 20 GB", "kind": "addon", "service_type": "mobile_postpaid", "recurring": "20.00",
     "rules": {"excludes": ["ROAM_EU_5GB"], "at_most": {"count": 1, "of": ["DATA_S", "DATA_L"]}}},
    {"code": "OLD_PLAN", "name": "Old plan", "kind": "plan", "service_type": "mobile_postpaid", "recurring": "5.00",
     "sellable": False},
]


def iccid(n: int, prefix: str = "8931440400") -> str:
    body = f"{prefix}{n:08d}"
    return body + luhn.calc_check_digit(body)


def catalogue_for(brand, actor):
    data = load(CATALOG.read_text())
    data["brand"] = {"code": brand.code, "name": brand.name, "currency": brand.currency, "timezone": brand.timezone,
                     "country": brand.country, "language": brand.language}
    data["products"] += EXTRA_PRODUCTS
    apply_catalog(data, actor=actor, at=clock.now(), effective_from=DAY0)


def stock_for(brand, actor, *, numbers=("+31 6 10000001", "+31 6 10000002", "+31 6 10000003"), sims=3, offset=0):
    for number in numbers:
        create_number(brand, number, actor=actor, at=clock.now())
    imsi = "20408" if brand.country == "NL" else "23410"
    for n in range(offset, offset + sims):
        create_sim(brand, actor=actor, at=clock.now(), iccid=iccid(n, "8931440400" if brand.country == "NL"
                                                                    else "8944100000"),
                   imsi=f"{imsi}{n:010d}", sim_type="esim" if n % 2 else "usim-4g")


@pytest.fixture(scope="module")
def shop_kept(django_db_setup, django_db_blocker):
    """The shop built once for a module that asks for it (pytestmark usefixtures("shop_kept")):
    applying the catalogue takes about a second, and most tests here only read it."""
    with kept_for_the_module(django_db_blocker):
        actor = Actor.system("tests")
        brand = create_brand(actor=actor, at=clock.now(), **BRAND_A)
        catalogue_for(brand, actor)
        stock_for(brand, actor)
        yield brand


@pytest.fixture
def shop(request, brand_a, system):
    """brand_a with the demo catalogue (from 2024-01-01) and three numbers and SIM cards."""
    if not uses_kept(request, "shop_kept"):
        catalogue_for(brand_a, system)
        stock_for(brand_a, system)
    return brand_a


@pytest.fixture
def other_shop(brand_b, system):
    catalogue_for(brand_b, system)
    stock_for(brand_b, system, numbers=("+44 7400 100001", "+44 7400 100002"), sims=2, offset=100)
    return brand_b


@pytest.fixture
def ann(shop, system):
    """A private customer of brand_a with a legal+billing address and a billing account."""
    customer = s.create_customer(shop, actor=system, at=clock.now(), kind="private", first_name="Ann",
                                 last_name="de Vries", email="Ann.deVries@example.com", phone="06 1234 5678")
    s.add_address(customer, actor=system, at=clock.now(), street1="Kerkstraat 1", postcode="1011 AB",
                  city="Amsterdam", roles=["legal", "billing", "installation"])
    s.create_billing_account(customer, actor=system, at=clock.now())
    return customer


@pytest.fixture
def mobile(ann, system):
    """An active postpaid mobile line of ann: MOB_POST_BASIC with the EU roaming add-on."""
    return s.create_subscription(ann, actor=system, at=clock.now(), billing_account=ann.accounts.get(),
                                 service_type="mobile_postpaid", plan="MOB_POST_BASIC", addons=["ROAM_EU_5GB"])


@pytest.fixture
def csr_api(api_for, shop):
    return api_for({shop: ["customers.view", "customers.change"]})


@pytest.fixture
def anonymous_client():
    return ApiClient()
