"""Where a catalogue entity is used: which rate plans rate a zone, which products include a
bundle, which rules, discounts and price lists name a product...

The catalogue only knows its own references. Apps above it (customers, inventory) add theirs
with `register_usage`, e.g. the number of subscriptions holding a product:

    register_usage("catalog.product", subscriptions_of_product)

A provider is `(obj, principal) -> Usage | None`; it must count only what the principal may see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from telora.catalog import models as m
from telora.catalog.constants import SERVICES
from telora.catalog.models import in_effect

MAX_ITEMS = 50


@dataclass(frozen=True)
class UsageItem:
    label: str
    obj: object | None = None  # a catalogue row whose page the GUI links to
    detail: str = ""
    ended: bool = False


@dataclass
class Usage:
    title: str
    items: list[UsageItem] = field(default_factory=list)
    count: int | None = None  # when only a number is known (e.g. subscriptions)
    url: str = ""  # a page listing them, if any

    @property
    def total(self) -> int:
        return self.count if self.count is not None else len(self.items)


UsageProvider = Callable[[object, object], "Usage | None"]
_PROVIDERS: dict[str, dict[str, UsageProvider]] = {}


def register_usage(object_type: str, provider: UsageProvider) -> None:
    """Add a provider for objects of `object_type` ("catalog.product"); registering again replaces it."""
    _PROVIDERS.setdefault(object_type, {})[f"{provider.__module__}.{provider.__qualname__}"] = provider


def _ended(row, day: dt.date) -> bool:
    return row.valid_to is not None and row.valid_to <= day


def _entities(title: str, rows, day: dt.date, detail: Callable[[object], str] = lambda row: row.name) -> Usage:
    rows = list(rows[:MAX_ITEMS + 1]) if hasattr(rows, "query") else list(rows)
    items = [UsageItem(row.code, row, detail(row), _ended(row, day)) for row in rows]
    return Usage(title, items)


def _tax(obj, day):
    return [_entities(_("Products"), m.Product.objects.filter(tax=obj).order_by("code"), day)]


def _bill_cycle(obj, day):
    return [_entities(_("Billing groups"), m.BillingGroup.objects.filter(bill_cycle=obj).order_by("code"), day)]


def _customer_group(obj, day):
    return [_entities(_("Price lists"), m.PriceList.objects.filter(customer_group=obj).order_by("code"), day)]


def _sales_channel(obj, day):
    return [_entities(_("Price lists"), m.PriceList.objects.filter(channel=obj).order_by("code"), day)]


def _zone(obj, day):
    rates = (m.Rate.objects.filter(zone=obj).select_related("rate_plan")
             .order_by("rate_plan__code", "service", "band", "valid_from"))
    plans: dict[int, list] = {}
    for rate in rates:
        plans.setdefault(rate.rate_plan_id, []).append(rate)
    rate_items = []
    for group in plans.values():
        plan = group[0].rate_plan
        live = [r for r in group if not _ended(r, day)]
        keys = sorted({(SERVICES.index(r.service), r.service, r.band) for r in live})
        services = [f"{service} {band}".strip() for _i, service, band in keys]
        rate_items.append(UsageItem(plan.code, plan, ", ".join(services) or "—", not live or _ended(plan, day)))
    allowances = m.Allowance.objects.filter(zones=obj).select_related("bundle").order_by("bundle__code")
    bundles = {a.bundle.pk: a.bundle for a in allowances}
    return [
        Usage(_("Rate plans"), rate_items),
        _entities(_("Bundles"), bundles.values(), day),
        _entities(_("Discounts"), m.Discount.objects.filter(zones=obj).order_by("code"), day),
    ]


def _time_band_set(obj, day):
    return [_entities(_("Rate plans"), m.RatePlan.objects.filter(time_band_set=obj).order_by("code"), day)]


def _rate_plan(obj, day):
    return [_entities(_("Products"), m.Product.objects.filter(rate_plan=obj).order_by("code"), day)]


def _bundle(obj, day):
    products = m.Product.objects.filter(pk__in=m.ProductBundle.objects.filter(bundle=obj).values("product_id"))
    return [_entities(_("Products"), products.order_by("code"), day)]


RULE_WORDS = {"requires_any": _("requires it (or another)"), "excludes": _("excludes it"), "at_most": _("limits it")}


def _product(obj, day):
    targets = (m.ProductRuleTarget.objects.filter(product=obj).select_related("rule__product")
               .order_by("rule__product__code"))
    rules = [UsageItem(t.rule.product.code, t.rule.product,
                       str(RULE_WORDS[t.rule.kind]) + (f" (≤ {t.rule.count})" if t.rule.kind == "at_most" else ""),
                       _ended(t.rule.product, day)) for t in targets]
    discounts = m.Discount.objects.filter(pk__in=m.DiscountProduct.objects.filter(product=obj).values("discount_id"))
    items = (m.PriceListItem.objects.filter(charge__product=obj).select_related("price_list", "charge")
             .order_by("price_list__code", "charge__code", "valid_from"))
    lists: dict[int, list] = {}
    for item in items:
        lists.setdefault(item.price_list_id, []).append(item)
    price_lists = []
    for group in lists.values():
        price_list = group[0].price_list
        live = [i for i in group if not _ended(i, day)]
        price_lists.append(UsageItem(price_list.code, price_list, ", ".join(sorted({i.charge.code for i in live}))
                                     or "—", not live or _ended(price_list, day)))
    return [
        Usage(_("Rules of other products"), rules),
        _entities(_("Discounts"), discounts.order_by("code"), day,
                  lambda d: f"{d.name} · {d.percent.normalize():f}% {d.applies_to}"),
        Usage(_("Price lists"), price_lists),
    ]


BUILT_IN: dict[type, Callable] = {
    m.Tax: _tax, m.BillCycle: _bill_cycle, m.CustomerGroup: _customer_group, m.SalesChannel: _sales_channel,
    m.Zone: _zone, m.TimeBandSet: _time_band_set, m.RatePlan: _rate_plan, m.Bundle: _bundle, m.Product: _product,
}


def used_by(obj, principal, day: dt.date) -> list[Usage]:
    """Every place `obj` is used, built-in references first, then the registered providers'."""
    found = list(BUILT_IN.get(type(obj), lambda o, d: [])(obj, day))
    for provider in _PROVIDERS.get(obj._meta.label_lower, {}).values():
        usage = provider(obj, principal)
        if usage is not None:
            found.append(usage)
    return found


__all__ = ["Usage", "UsageItem", "in_effect", "register_usage", "used_by"]
