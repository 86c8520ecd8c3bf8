"""The global search box: a registry of providers, each searching what it knows.

A provider is a function `(user, brand, query) -> iterable of SearchResult`. `brand` is the
brand the user works in (may be None); `query` is stripped and at least MIN_QUERY_LENGTH long.
Providers must read through `Model.objects.for_user(user)` so nobody finds what they may not
open. Apps register theirs in `AppConfig.ready()`:

    from telora.ui.search import SearchResult, register_search_provider

    @register_search_provider(order=10)
    def customers(user, brand, query):
        for c in Customer.objects.for_user(user).in_brand(brand).filter(...)[:10]:
            yield SearchResult(label=c.name, detail=c.number, url=..., kind=_("Customer"), icon="user")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from telora.core import rights

MIN_QUERY_LENGTH = 2
MAX_RESULTS_PER_PROVIDER = 10


@dataclass(frozen=True)
class SearchResult:
    label: str
    url: str
    kind: str  # what it is, shown as a group heading ("User", "Customer")
    detail: str = ""  # a second line that tells two similar labels apart
    icon: str = "search"  # a Tabler icon name


SearchProvider = Callable[..., Iterable[SearchResult]]


@dataclass(frozen=True)
class _Registered:
    order: int
    name: str
    func: SearchProvider


_PROVIDERS: dict[str, _Registered] = {}


def register_search_provider(func: SearchProvider | None = None, *, order: int = 100):
    """Register a provider; usable bare (`@register_search_provider`) or with an order.

    Lower orders come first in the results, so the things people look for most (customers,
    numbers) can lead. Registering the same function again replaces it (module reloads).
    """

    def register(provider: SearchProvider) -> SearchProvider:
        name = f"{provider.__module__}.{provider.__qualname__}"
        _PROVIDERS[name] = _Registered(order=order, name=name, func=provider)
        return provider

    return register(func) if func is not None else register


def providers() -> list[SearchProvider]:
    return [entry.func for entry in sorted(_PROVIDERS.values(), key=lambda e: (e.order, e.name))]


def search(user, brand, query: str, *, limit: int = MAX_RESULTS_PER_PROVIDER) -> list[SearchResult]:
    """Results of every provider, in provider order, at most `limit` from each."""
    query = (query or "").strip()
    if len(query) < MIN_QUERY_LENGTH or not getattr(user, "is_authenticated", False):
        return []
    results: list[SearchResult] = []
    for provider in providers():
        found = list(provider(user, brand, query) or [])
        results.extend(found[:limit])
    return results


def grouped(results: Iterable[SearchResult]) -> list[tuple[str, list[SearchResult]]]:
    """Results as (kind, items) in first-seen order, for headings in the dropdown and results page."""
    groups: dict[str, list[SearchResult]] = {}
    for result in results:
        groups.setdefault(str(result.kind), []).append(result)
    return list(groups.items())


def words_match(query: str, fields: list[str]) -> Q:
    """Every word of the query must appear in one of the fields ("ann smith" finds Ann Smith)."""
    condition = Q()
    for word in query.split():
        any_field = Q()
        for field in fields:
            any_field |= Q(**{f"{field}__icontains": word})
        condition &= any_field
    return condition


# ---- core's providers ----------------------------------------------------------------------


def search_users(user, brand, query):
    from telora.core.models import User

    matches = (
        User.objects.for_user(user)
        .filter(words_match(query, ["username", "first_name", "last_name", "email"]))
        .order_by("username")[:MAX_RESULTS_PER_PROVIDER]
    )
    for found in matches:
        name = found.get_full_name()
        yield SearchResult(
            label=f"{name} ({found.username})" if name else found.username,
            detail=found.email,
            url=reverse("ui:user_detail", args=[found.pk]),
            kind=str(_("Users")),
            icon="user",
        )


def search_brands(user, brand, query):
    from telora.core.models import Brand

    is_admin = rights.is_system_admin(user)
    matches = Brand.objects.for_user(user).filter(words_match(query, ["code", "name"]))
    for found in matches[:MAX_RESULTS_PER_PROVIDER]:
        # Only system administrators have brand pages; others switch brands from the home page.
        url = reverse("ui:brand_detail", args=[found.pk]) if is_admin else reverse("ui:home") + "#brands"
        yield SearchResult(label=found.name, detail=found.code, url=url, kind=str(_("Brands")),
                           icon="building-store")


def register_core_providers() -> None:
    register_search_provider(search_users, order=900)
    register_search_provider(search_brands, order=990)
