"""Orders fixtures: the customers tests' shop (brand_a with the demo catalogue, SIMs and numbers), ann
with her account and a mobile line, the same for brand_b, and JSON API clients."""

import pytest

from db_helpers import BRAND_A, kept_for_the_module, uses_kept
from shop_helpers import make_customer as _customer
from shop_helpers import make_shop as _shop
from telora.core import clock
from telora.core.services import Actor
from telora.core.services.brands import create_brand
from telora.customers import services as s


def _line(customer, actor):
    return s.create_subscription(customer, actor=actor, at=clock.now(), billing_account=customer.accounts.get(),
                                 service_type="mobile_postpaid", plan="MOB_POST_BASIC", addons=["ROAM_EU_5GB"])


ALPHA_STOCK = (("+31 6 10000001", "+31 6 10000002", "+31 6 10000003"), "8931440400", 0)


@pytest.fixture(scope="module")
def shop_kept(django_db_setup, django_db_blocker):
    """The shop built once for a module that asks for it (pytestmark usefixtures("shop_kept"));
    each test rolls back to it (db_helpers.kept_for_the_module)."""
    with kept_for_the_module(django_db_blocker):
        actor = Actor.system("tests")
        yield _shop(create_brand(actor=actor, at=clock.now(), **BRAND_A), actor, *ALPHA_STOCK)


@pytest.fixture
def shop(request, brand_a, system):
    if uses_kept(request, "shop_kept"):
        return brand_a
    return _shop(brand_a, system, *ALPHA_STOCK)


@pytest.fixture
def other_shop(brand_b, system):
    return _shop(brand_b, system, ("+44 7400 100001", "+44 7400 100002"), "8944100000", 100)


@pytest.fixture
def ann(shop, system):
    return _customer(shop, system, "Ann")


@pytest.fixture
def mobile(ann, system):
    return _line(ann, system)


@pytest.fixture
def bob_line(other_shop, system):
    return _line(_customer(other_shop, system, "Bob"), system)




DESKS = ("credit", "network", "qualification", "installation", "logistics", "retention", "porting")


@pytest.fixture
def flows_loaded(ann, system):
    """The brand's desks and the standard flows, published as the engine's loader does."""
    from telora.orders.flows import FLOW_DIR
    from telora.workflows.services.flows import create_desk, load_flows

    for code in DESKS:
        create_desk(ann.brand, code, code.title(), actor=system, at=clock.now())
    load_flows(FLOW_DIR, actor=system, at=clock.now())
