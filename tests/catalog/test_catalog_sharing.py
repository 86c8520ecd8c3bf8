"""A catalogue belongs to one brand; brands it is shared with read it, and only the owner changes it."""

import pytest

from telora.catalog import models as m
from telora.catalog.selectors import sellable_products
from telora.catalog.services import save_zone
from telora.core import clock
from telora.core.services import Actor
from telora.core.services.actors import PermissionDeniedError

CATALOG = ["catalog.view", "catalog.change", "catalog.apply"]


@pytest.fixture
def shared(apply, reference, brand_a, brand_b):
    reference["brand"]["shared_with"] = [brand_b.code]
    apply(reference)
    return m.CatalogShare.objects.get()


def test_a_shared_catalogue_is_readable_but_not_changeable(shared, make_user, brand_b):
    bob = make_user("bob", {brand_b: CATALOG})
    visible = m.Product.objects.for_user(bob, "view")
    assert visible.filter(brand__code="NORD").count() == 7
    assert not m.Product.objects.for_user(bob, "change").filter(brand__code="NORD").exists()
    assert not m.Rate.objects.for_user(bob, "apply").exists()
    assert m.Rate.objects.for_user(bob, "view").count() == 19
    assert m.CatalogShare.objects.for_user(bob).get() == shared


def test_without_a_share_brands_are_isolated(apply, reference, make_user, brand_a, brand_b):
    apply(reference)
    ann = make_user("ann", {brand_a: CATALOG})
    assert not m.Product.objects.for_user(ann, "view").exists()
    assert not m.Zone.objects.for_user(ann, "view").exists()
    nord_user = make_user("nils", {m.Product.objects.first().brand: ["catalog.view"]})
    assert m.Product.objects.for_user(nord_user, "view").count() == 7
    assert not m.Product.objects.for_user(nord_user, "change").exists()


def test_the_shared_brand_cannot_write_the_owners_catalogue(shared, make_user, brand_b):
    bob = make_user("bob", {brand_b: CATALOG})
    nord = shared.brand
    with pytest.raises(PermissionDeniedError, match="catalog.change in brand NORD"):
        save_zone(nord, {"code": "X", "name": "X", "prefixes": ["99"]}, actor=Actor(user=bob), at=clock.now())


def test_a_shared_brand_sells_the_owners_products(shared, brand_a, brand_b):
    assert sellable_products(brand_b).filter(brand__code="NORD").count() == 7
    assert not sellable_products(brand_a).exists()


def test_shares_follow_the_file(apply, reference, shared, brand_a, brand_b):
    reference["brand"]["shared_with"] = [brand_a.code]
    result = apply(reference)
    assert [(c.action, c.key) for c in result.changes] == [("create", "NORD → alpha"), ("delete", "NORD → bravo")]
    assert list(m.CatalogShare.objects.values_list("shared_with__code", flat=True)) == ["alpha"]
    reference["brand"].pop("shared_with")  # left out: left as it is
    assert apply(reference).changes == []
