"""The customers' provider for the GUI's global search box (registered in CustomersConfig.ready)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from telora.ui.search import MAX_RESULTS_PER_PROVIDER, SearchResult, register_search_provider


def customer_url(customer) -> str:
    """The customer's page in the GUI."""
    return reverse("customers:customer_detail", args=[customer.pk])


def search_customers_provider(user, brand, query):
    from telora.customers.selectors import search_customers

    for hit in search_customers(user, brand, query, limit=MAX_RESULTS_PER_PROVIDER):
        customer = hit.customer
        detail = " · ".join(filter(None, [customer.number, hit.detail or None, customer.status
                                          if customer.status != "active" else None]))
        yield SearchResult(label=customer.name, detail=detail, url=customer_url(customer), kind=_("Customers"),
                           icon="building" if customer.kind == "business" else "user")

def register() -> None:
    register_search_provider(search_customers_provider, order=10)
