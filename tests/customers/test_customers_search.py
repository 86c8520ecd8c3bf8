"""Global search: a customer by number, name, e-mail, phone, MSISDN, ICCID or circuit id, only where allowed."""

import pytest

from telora.core import clock
from telora.customers import services as s
from telora.customers.selectors import search_customers
from telora.ui import search as ui_search

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept")]


@pytest.fixture
def people(mobile, ann, other_shop, system):
    """ann (alpha, with a mobile line), a business with a contact in alpha, and a namesake in bravo."""
    acme = s.create_customer(ann.brand, actor=system, at=clock.now(), kind="business", company_name="Acme Trading BV",
                             email="office@acme.example")
    s.add_contact(acme, actor=system, at=clock.now(), last_name="Boer", email="j.boer@acme.example",
                  phone="+31 20 555 1234")
    namesake = s.create_customer(other_shop, actor=system, at=clock.now(), kind="private", first_name="Ann",
                                 last_name="de Vries", email="Ann.deVries@example.com", phone="07400 100009")
    account = s.create_billing_account(namesake, actor=system, at=clock.now())
    s.create_subscription(namesake, actor=system, at=clock.now(), billing_account=account,
                          service_type="mobile_prepaid", plan="MOB_PRE")
    return {"ann": ann, "acme": acme, "namesake": namesake, "line": mobile}


@pytest.fixture
def clerk(make_user, shop):
    return make_user("clerk", {shop: ["customers.view"]})


def found(principal, brand, query):
    return [(hit.customer.number, hit.customer.brand.code, hit.matched) for hit in
            search_customers(principal, brand, query)]


def test_each_key_finds_the_customer(people, clerk, shop):
    line = people["line"]
    assert found(clerk, shop, "C0000001") == [("C0000001", "alpha", "number")]
    assert found(clerk, shop, "c0000002") == [("C0000002", "alpha", "number")]
    assert found(clerk, shop, "ann") == [("C0000001", "alpha", "name")]
    assert found(clerk, shop, "VRIES ann") == [("C0000001", "alpha", "name")]
    assert found(clerk, shop, "trading") == [("C0000002", "alpha", "name")]
    assert found(clerk, shop, "ann.devries@EXAMPLE.com") == [("C0000001", "alpha", "email")]
    assert found(clerk, shop, "ann.devries@exa") == [("C0000001", "alpha", "email")]
    assert found(clerk, shop, "j.boer@acme") == [("C0000002", "alpha", "email")]
    assert found(clerk, shop, "06 1234 5678") == [("C0000001", "alpha", "phone")]
    assert found(clerk, shop, "020 555 1234") == [("C0000002", "alpha", "phone")]
    assert found(clerk, shop, "+" + line.identifier) == [("C0000001", "alpha", "msisdn")]
    assert found(clerk, shop, "06 1000 0001") == [("C0000001", "alpha", "msisdn")]
    assert found(clerk, shop, line.sim.iccid) == [("C0000001", "alpha", "iccid")]


def test_a_circuit_id_finds_its_customer(ann, clerk, shop, system):
    s.create_subscription(ann, actor=system, at=clock.now(), billing_account=ann.accounts.get(), service_type="fiber",
                          plan="FIBER_500", identifier="FIB-AMS-0042")
    assert found(clerk, shop, "FIB-AMS-0042") == [("C0000001", "alpha", "identifier")]


def test_search_never_shows_another_brands_customers(people, clerk, shop, other_shop):
    namesake = people["namesake"]
    assert found(clerk, shop, "ann de vries") == [("C0000001", "alpha", "name")]
    assert found(clerk, other_shop, "ann") == []  # no customers.view in bravo
    assert found(clerk, None, "ann") == [("C0000001", "alpha", "name")]  # no active brand: every brand allowed
    assert found(clerk, shop, namesake.subscriptions.get().sim.iccid) == []
    assert found(clerk, shop, "+" + namesake.subscriptions.get().identifier) == []


def test_a_user_of_both_brands_finds_both_but_only_in_the_active_brand(people, make_user, shop, other_shop):
    both = make_user("both", {shop: ["customers.view"], other_shop: ["customers.view"]})
    assert found(both, other_shop, "ann") == [("C0000001", "bravo", "name")]
    assert sorted(found(both, None, "ann")) == [("C0000001", "alpha", "name"), ("C0000001", "bravo", "name")]


def test_no_rights_no_results_and_short_queries_find_nothing(people, make_user, shop, clerk):
    assert found(make_user("nobody", {shop: ["audit.view"]}), shop, "ann") == []
    assert found(clerk, shop, "a") == []
    assert found(clerk, shop, "zz") == []  # no word long enough to search names by


def test_the_global_search_box_shows_customers_first(people, clerk, shop):
    results = ui_search.search(clerk, shop, "de vries")
    assert results[0].kind == "Customers" and results[0].label == "Ann de Vries"
    assert results[0].detail.startswith("C0000001")
    assert results[0].url  # the GUI page once it exists, the TMF resource until then
    business = ui_search.search(clerk, shop, "acme")[0]
    assert business.icon == "building"
