"""The catalogue's "used by" panel counts the live subscriptions holding a product."""

from telora.catalog.models import Product
from telora.catalog.selectors.usage import used_by
from telora.core import clock
from telora.customers import services as s
from telora.customers.usage import subscriptions_of_product


def test_counts_live_holders_only(mobile, make_user, shop, other_shop, system):
    basic = Product.objects.get(brand=shop, code="MOB_POST_BASIC")
    viewer = make_user("viewer", {shop: ["customers.view", "catalog.view"]})
    assert subscriptions_of_product(basic, viewer).count == 1
    s.change_plan(mobile, "MOB_POST_10GB", actor=system, at=clock.now())
    assert subscriptions_of_product(basic, viewer) is None  # the plan instance has ended
    stranger = make_user("stranger", {other_shop: ["customers.view", "catalog.view"]})
    assert subscriptions_of_product(Product.objects.get(brand=shop, code="MOB_POST_10GB"), stranger) is None


def test_the_panel_shows_subscriptions(mobile, make_user, shop):
    viewer = make_user("viewer", {shop: ["customers.view", "catalog.view"]})
    panels = used_by(Product.objects.get(brand=shop, code="MOB_POST_BASIC"), viewer, clock.today(shop))
    assert any(panel.title == "Subscriptions" and panel.total == 1 for panel in panels)
