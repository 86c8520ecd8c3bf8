"""Same product, different prices: price lists per sales channel and customer group."""

import datetime as dt
from decimal import Decimal

import pytest
from catalog_helpers import DAY0

from telora.catalog import models as m
from telora.catalog.selectors import effective_price, pick_override, resolve_price
from telora.catalog.selectors.pricing import Candidate

pytestmark = pytest.mark.usefixtures("nord_kept")

LISTS = {
    "customer_groups": [{"code": "STAFF", "name": "Employees"}, {"code": "STUDENT", "name": "Students"}],
    "sales_channels": [{"code": "WEB", "name": "Web shop"}, {"code": "SHOP", "name": "Shops"}],
    "price_lists": [
        {"code": "WEB", "name": "Web prices", "channel": "WEB", "items": [
            {"product": "MOB_POST_10GB", "charge": "recurring", "price": "139.00"},
            {"product": "MOB_POST_10GB", "charge": "ACTIVATION", "price": "0.00"}]},
        {"code": "STAFF", "name": "Staff prices", "customer_group": "STAFF", "priority": 10, "items": [
            {"product": "MOB_POST_10GB", "charge": "recurring", "price": "99.00"}]},
        {"code": "WEB_STAFF", "name": "Staff on the web", "channel": "WEB", "customer_group": "STAFF",
         "priority": 10, "items": [{"product": "MOB_POST_10GB", "charge": "recurring", "price": "89.00"}]},
        {"code": "STUDENT", "name": "Students", "customer_group": "STUDENT", "priority": -5, "items": [
            {"product": "MOB_POST_10GB", "charge": "recurring", "price": "119.00"}]},
    ],
}


@pytest.fixture
def priced(apply, reference, nord):
    apply({**reference, **LISTS}, effective_from=DAY0)
    return m.Product.objects.get(brand=nord, code="MOB_POST_10GB")


@pytest.mark.parametrize("charge, channel, group, expected, source", [
    ("recurring", None, None, "149.00", None),
    ("recurring", "SHOP", None, "149.00", None),
    ("recurring", "WEB", None, "139.00", "WEB"),
    ("recurring", None, "STAFF", "99.00", "STAFF"),
    ("recurring", "SHOP", "STAFF", "99.00", "STAFF"),
    ("recurring", "WEB", "STAFF", "89.00", "WEB_STAFF"),  # same priority: the more specific list
    ("recurring", "WEB", "STUDENT", "139.00", "WEB"),  # higher priority wins over the group
    ("ACTIVATION", "WEB", None, "0.00", "WEB"),
    ("ACTIVATION", "SHOP", "STAFF", "99.00", None),
])
def test_price_list_overrides_resolve_before_the_base_price(priced, charge, channel, group, expected, source):
    quote = resolve_price(priced, charge, DAY0, channel=channel, customer_group=group)
    assert (quote.amount, quote.price_list, quote.currency) == (Decimal(expected), source, "DKK")
    assert effective_price(priced, charge, DAY0, channel, group) == Decimal(expected)


def test_rows_work_as_well_as_codes(priced):
    web = m.SalesChannel.objects.get(code="WEB")
    staff = m.CustomerGroup.objects.get(code="STAFF")
    assert effective_price(priced, "recurring", DAY0, channel=web, customer_group=staff) == Decimal("89.00")


def test_no_such_charge_has_no_price(priced):
    assert effective_price(priced, "price", DAY0) is None
    assert effective_price(priced, "NOPE", DAY0) is None


def test_price_list_items_are_dated_too(apply, reference, priced):
    lists = {**LISTS, "price_lists": [dict(LISTS["price_lists"][0], items=[
        {"product": "MOB_POST_10GB", "charge": "recurring", "price": "129.00"}])]}
    result = apply({**reference, **lists}, effective_from=dt.date(2026, 4, 1))
    assert ("update", "price list item", "WEB MOB_POST_10GB recurring") in [
        (c.action, c.entity, c.key) for c in result.changes]
    assert effective_price(priced, "recurring", dt.date(2026, 3, 31), channel="WEB") == Decimal("139.00")
    assert effective_price(priced, "recurring", dt.date(2026, 4, 1), channel="WEB") == Decimal("129.00")
    assert effective_price(priced, "recurring", dt.date(2026, 4, 1), customer_group="STAFF") == Decimal("149.00")


def test_an_item_must_name_a_charge_the_product_has(apply, reference, nord):
    from telora.catalog.services import CatalogError

    bad = {**LISTS, "price_lists": [{"code": "X", "name": "X", "items": [
        {"product": "MOB_PRE", "charge": "recurring", "price": "1"}]}]}
    with pytest.raises(CatalogError) as err:
        apply({**reference, **bad})
    assert err.value.lines() == [
        "price_lists[0].items[0].charge: product MOB_PRE has no charge 'recurring' (it has: none)"]


def test_pick_override_is_pure():
    def c(code, priority, channel=None, group=None):
        return Candidate(code, priority, channel, group, Decimal(priority))

    candidates = [c("A", 0), c("B", 5, channel="WEB"), c("C", 5, channel="WEB", group="VIP"), c("D", 9, group="VIP")]
    assert pick_override(candidates, None, None).price_list == "A"
    assert pick_override(candidates, "WEB", None).price_list == "B"
    assert pick_override(candidates, "WEB", "VIP").price_list == "D"
    assert pick_override(candidates[1:3], "WEB", "VIP").price_list == "C"
    assert pick_override(candidates[1:], "SHOP", None) is None
