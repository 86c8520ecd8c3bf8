"""Helpers of the catalogue screens: the business day, validity states, the codes forms offer,
an entity as the YAML item a form starts from, and showing amounts and quantities."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _

from telora.catalog import models as m
from telora.catalog.export import Tree, format_amount
from telora.catalog.models import in_effect
from telora.catalog.schema.errors import CatalogError
from telora.catalog.selectors import catalogue_owners
from telora.catalog.selectors.state import SHAPES
from telora.core import clock
from telora.core.money import minor_unit
from telora.core.services import ServiceError

CURRENT, FUTURE, ENDED = "current", "future", "ended"


def state_of(row, day: dt.date) -> str:
    """current (in effect on `day`), future (starts later) or ended."""
    if row.valid_from > day:
        return FUTURE
    return CURRENT if in_effect(row, day) else ENDED


def live(queryset, day: dt.date):
    """Rows that have not ended by `day` (current and future)."""
    from django.db.models import Q

    return queryset.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))


def may_change(user, obj) -> bool:
    return type(obj).objects.for_user(user, "change").filter(pk=obj.pk).exists()


def owners(brand) -> list[int]:
    return catalogue_owners(brand) if brand is not None else []


def _labelled(rows) -> list[tuple[str, str]]:
    return [(row.code, f"{row.code} — {row.name}") for row in rows]


CHOICE_SECTIONS = {
    "bill_cycles": m.BillCycle, "zones": m.Zone, "time_bands": m.TimeBandSet, "rate_plans": m.RatePlan,
    "taxes": m.Tax, "bundles": m.Bundle, "products": m.Product, "sales_channels": m.SalesChannel,
    "customer_groups": m.CustomerGroup,
}


def choices_for(brand, day: dt.date, wanted=CHOICE_SECTIONS) -> dict[str, list]:
    """Codes of the brand's own catalogue not ended by `day`, for the select lists of forms.
    Price-list rows also get every product charge ("PRODUCT charge")."""
    choices = {key: _labelled(live(CHOICE_SECTIONS[key].objects.filter(brand=brand), day).order_by("code"))
               for key in wanted}
    if "products" in wanted:
        charges = (m.ProductCharge.objects.filter(brand=brand).filter(product__in=live(
            m.Product.objects.filter(brand=brand), day)).select_related("product").order_by("product__code", "code"))
        choices["charges"] = [(f"{c.product.code} {c.code}", f"{c.product.code} · {c.code}") for c in charges]
    return choices


def item_of(obj, section: str, day: dt.date) -> dict:
    """The entity as the YAML item an export would write, as it is on `day` (or, for an entity
    not in effect then, on its last or first day)."""
    shape = SHAPES[section]
    row = shape.queryset(obj.brand).get(pk=obj.pk)
    probe = day
    if row.valid_from > day:
        probe = row.valid_from
    elif row.valid_to is not None and row.valid_to <= day:
        probe = max(row.valid_from, row.valid_to - dt.timedelta(days=1))
    return Tree(obj.brand.currency).entity(section, shape.spec(row, probe))


def error_lines(exc: ServiceError) -> list[str]:
    """A refused change for people: each line of a CatalogError, or another ServiceError's message."""
    return exc.lines() if isinstance(exc, CatalogError) else [exc.message]


def default_day(brand, obj=None) -> dt.date:
    today = clock.today(brand)
    if obj is not None and getattr(obj, "valid_from", None) and obj.valid_from > today:
        return obj.valid_from
    return today


def show_amount(value, currency: str) -> str:
    if value is None:
        return "—"
    return str(format_amount(Decimal(value), minor_unit(currency)))


def show_quantity(service: str, amount: int) -> str:
    """Seconds, messages or bytes as people read them: 500 min, 10 GB, 1000 SMS."""
    if service == "voice":
        return _("%(n)s min") % {"n": f"{amount // 60:,}"} if amount % 60 == 0 else _("%(n)s s") % {"n": f"{amount:,}"}
    if service == "data":
        for unit, size in (("TB", 1024 ** 4), ("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
            if amount >= size:
                value = Decimal(amount) / size
                text = f"{value:.2f}".rstrip("0").rstrip(".")
                return f"{text} {unit}"
        return f"{amount} B"
    return f"{amount:,}"


def unit_label(service: str, unit: int) -> str:
    """The unit a rate's price is for, in words: per minute, per MB, per SMS."""
    if service == "voice":
        return _("per minute") if unit == 60 else _("per %(n)s s") % {"n": unit}
    if service == "data":
        return {1024: _("per KB"), 1024 ** 2: _("per MB"), 1024 ** 3: _("per GB")}.get(unit) or _(
            "per %(n)s bytes") % {"n": unit}
    return _("per message") if unit == 1 else _("per %(n)s") % {"n": unit}
