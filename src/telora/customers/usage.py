"""What the customers app tells the catalogue's "used by" panels: live subscriptions holding a product."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from telora.catalog.selectors.usage import Usage, register_usage
from telora.core import clock
from telora.customers.selectors import subscriptions_for_user


def subscriptions_of_product(product, principal) -> Usage | None:
    """Subscriptions (the principal may see) holding the product now, in any brand the catalogue reaches."""
    now = clock.now()
    count = (
        subscriptions_for_user(principal)
        # One filter() call, so all three conditions hold for the same product instance.
        .filter(Q(products__end_at__isnull=True) | Q(products__end_at__gt=now),
                products__product=product, products__start_at__lte=now)
        .distinct()
        .count()
    )
    if not count:
        return None
    return Usage(_("Subscriptions"), count=count)


def register() -> None:
    register_usage("catalog.product", subscriptions_of_product)
