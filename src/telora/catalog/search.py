"""The catalogue's provider for the GUI's global search box: products, and zones by code or prefix."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from telora.catalog import models as m
from telora.catalog.selectors import catalogue_owners
from telora.ui.search import MAX_RESULTS_PER_PROVIDER, SearchResult, register_search_provider, words_match


def search_catalogue(user, brand, query):
    if brand is None:
        return
    owners = catalogue_owners(brand)
    products = (m.Product.objects.for_user(user).filter(brand_id__in=owners)
                .filter(words_match(query, ["code", "name"])).order_by("valid_to", "code")[:MAX_RESULTS_PER_PROVIDER])
    for product in products:
        yield SearchResult(label=product.name, detail=f"{product.code} · {product.kind}",
                           url=reverse("catalog:product_detail", args=[product.pk]), kind=_("Products"), icon="package")
    digits = query.lstrip("+")
    by_prefix = Q(prefixes__contains=[digits]) if digits.isdigit() else Q(pk__in=[])
    zones = (m.Zone.objects.for_user(user).filter(brand_id__in=owners)
             .filter(words_match(query, ["code", "name"]) | by_prefix).order_by("code")[:MAX_RESULTS_PER_PROVIDER])
    for zone in zones:
        yield SearchResult(label=zone.name, detail=zone.code, url=reverse("catalog:zone_detail", args=[zone.pk]),
                           kind=_("Zones"), icon="world")


def register() -> None:
    register_search_provider(search_catalogue, order=200)
