"""The catalogue's sections as the GUI shows them: model, form, icon, list columns, filters.

One generic list, detail, form and close view serves every section; what differs lives here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from telora.catalog import models as m
from telora.catalog.constants import DISCOUNT_TARGETS, PRICE, PRODUCT_KINDS, RECURRING
from telora.catalog.forms.config import (
    BillCycleForm,
    BillingGroupForm,
    CustomerGroupForm,
    SalesChannelForm,
    SimTypeForm,
    TaxForm,
)
from telora.catalog.forms.products import DiscountForm, PriceListForm, ProductForm
from telora.catalog.forms.rating import BundleForm, RatePlanForm, TimeBandSetForm, ZoneForm
from telora.catalog.models import in_effect
from telora.catalog.views.common import show_amount, show_quantity


@dataclass(frozen=True)
class Column:
    label: str
    render: Callable  # (row, ctx) -> text or safe HTML; ctx has "day" and "currency"
    css: str = ""


@dataclass(frozen=True)
class Section:
    key: str  # the YAML section
    name: str  # URL names and templates: product_list, catalog/detail/product.html
    slug: str  # in URLs
    model: type
    label: str
    singular: str
    icon: str
    group: str
    form_class: type
    description: str = ""
    columns: tuple[Column, ...] = ()
    related: tuple[str, ...] = ()
    prefetch: tuple = ()
    kind_field: str = ""  # a model field the list filters by (product kind, discount target)
    kinds: tuple[str, ...] = ()

    @property
    def object_type(self) -> str:
        return self.model._meta.label_lower

    @property
    def list_url(self) -> str:
        return reverse(f"catalog:{self.name}_list")

    @property
    def create_url(self) -> str:
        return reverse(f"catalog:{self.name}_create")


def _dash(value) -> str:
    return "—" if value in (None, "", []) else str(value)


def _chips(values, limit: int = 8):
    values = list(values)
    if not values:
        return "—"
    shown = format_html_join(" ", '<span class="badge bg-secondary-lt font-monospace">{}</span>',
                             ((v,) for v in values[:limit]))
    more = format_html(' <span class="text-secondary small">+{}</span>', len(values) - limit) \
        if len(values) > limit else ""
    return format_html("{}{}", shown, more)


def _current_price(product, ctx) -> str:
    day = ctx["day"]
    for code in (RECURRING, PRICE):
        charge = next((c for c in product.charges.all() if c.code == code), None)
        price = next((p for p in charge.prices.all() if in_effect(p, day)), None) if charge else None
        if price is not None:
            amount = show_amount(price.amount, product.brand.currency)
            suffix = _("/ month") if code == RECURRING else ""
            return format_html('<span class="font-monospace">{}</span> <span class="text-secondary small">{} {}'
                               '</span>', amount, product.brand.currency, suffix)
    return "—"


def _current_count(rows, ctx) -> int:
    return sum(1 for row in rows if in_effect(row, ctx["day"]))


def _yes(value) -> str:
    return format_html('<span class="badge bg-green-lt">{}</span>', _("yes")) if value else \
        format_html('<span class="text-secondary">{}</span>', _("no"))


def _allowances(bundle, ctx) -> str:
    parts = []
    for allowance in bundle.allowances.all():
        zones = ", ".join(z.code for z in allowance.zones.all()) or _("all zones")
        parts.append(f"{show_quantity(allowance.service, allowance.amount)} {allowance.service} ({zones})")
    return "; ".join(parts) or "—"


SETUP, RATING, COMMERCIAL = _("Billing and sales setup"), _("Rating"), _("Products and prices")

SECTION_LIST = [
    Section("products", "product", "products", m.Product, _("Products"), _("product"), "package", COMMERCIAL,
            ProductForm, _("Plans, add-ons, one-time products and devices with their prices."),
            columns=(
                Column(_("Kind"), lambda r, c: format_html('<span class="badge bg-blue-lt">{}</span>', r.kind)),
                Column(_("Service type"), lambda r, c: _dash(r.service_type), "text-secondary"),
                Column(_("Price today"), _current_price, "text-nowrap"),
                Column(_("Rate plan"), lambda r, c: _dash(r.rate_plan and r.rate_plan.code), "font-monospace"),
                Column(_("Sellable"), lambda r, c: _yes(r.sellable)),
            ),
            related=("rate_plan", "brand"), prefetch=("charges__prices",), kind_field="kind", kinds=PRODUCT_KINDS),
    Section("discounts", "discount", "discounts", m.Discount, _("Discounts"), _("discount"), "discount",
            COMMERCIAL, DiscountForm, _("Percent off usage or off recurring prices, for the products listed."),
            columns=(
                Column(_("Applies to"), lambda r, c: r.applies_to),
                Column(_("Percent"), lambda r, c: f"{r.percent.normalize():f} %", "text-end font-monospace"),
                Column(_("For months"), lambda r, c: _dash(r.months), "text-end"),
                Column(_("Products"), lambda r, c: _chips(p.code for p in r.products.all())),
            ),
            prefetch=("products",), kind_field="applies_to", kinds=DISCOUNT_TARGETS),
    Section("price_lists", "price_list", "price-lists", m.PriceList, _("Price lists"), _("price list"), "tags",
            COMMERCIAL, PriceListForm, _("Other prices for a sales channel or a customer group."),
            columns=(
                Column(_("Sales channel"), lambda r, c: _dash(r.channel and r.channel.code), "font-monospace"),
                Column(_("Customer group"), lambda r, c: _dash(r.customer_group and r.customer_group.code),
                       "font-monospace"),
                Column(_("Priority"), lambda r, c: r.priority, "text-end"),
                Column(_("Prices in effect"), lambda r, c: _current_count(r.items.all(), c), "text-end"),
            ),
            related=("channel", "customer_group"), prefetch=("items",)),
    Section("zones", "zone", "zones", m.Zone, _("Zones"), _("zone"), "world", RATING, ZoneForm,
            _("Destination prefixes for calls and messages; countries for data."),
            columns=(
                Column(_("Prefixes"), lambda r, c: _chips(r.prefixes)),
                Column(_("Countries"), lambda r, c: _chips(r.countries)),
            )),
    Section("time_bands", "time_band_set", "time-bands", m.TimeBandSet, _("Time bands"), _("time band set"),
            "clock-hour-4", RATING, TimeBandSetForm, _("Peak and off-peak hours that rates can differ by."),
            columns=(Column(_("Bands"), lambda r, c: _chips(b.band for b in r.bands.all())),),
            prefetch=("bands",)),
    Section("rate_plans", "rate_plan", "rate-plans", m.RatePlan, _("Rate plans"), _("rate plan"), "chart-line",
            RATING, RatePlanForm, _("Prices of usage per service, zone and band, dated."),
            columns=(
                Column(_("Time bands"), lambda r, c: _dash(r.time_band_set and r.time_band_set.code),
                       "font-monospace"),
                Column(_("Rates in effect"), lambda r, c: _current_count(r.rates.all(), c), "text-end"),
            ),
            related=("time_band_set",), prefetch=(Prefetch("rates", m.Rate.objects.only(
                "id", "rate_plan_id", "valid_from", "valid_to")),)),
    Section("bundles", "bundle", "bundles", m.Bundle, _("Bundles"), _("bundle"), "box", RATING, BundleForm,
            _("Included minutes, messages and data that products carry."),
            columns=(
                Column(_("Period"), lambda r, c: r.period),
                Column(_("Allowances"), _allowances, "small"),
            ),
            prefetch=("allowances__zones",)),
    Section("taxes", "tax", "taxes", m.Tax, _("Taxes"), _("tax"), "receipt-tax", SETUP, TaxForm,
            _("Tax rates products are charged with."),
            columns=(
                Column(_("Percent"), lambda r, c: f"{r.percent.normalize():f} %", "text-end font-monospace"),
                Column(_("Default"), lambda r, c: _yes(r.is_default)),
            )),
    Section("bill_cycles", "bill_cycle", "bill-cycles", m.BillCycle, _("Bill cycles"), _("bill cycle"),
            "calendar-repeat", SETUP, BillCycleForm, _("The day of the month bill periods start."),
            columns=(Column(_("Anchor day"), lambda r, c: r.anchor_day, "text-end"),)),
    Section("billing_groups", "billing_group", "billing-groups", m.BillingGroup, _("Billing groups"),
            _("billing group"), "folders", SETUP, BillingGroupForm, _("Groups of accounts billed alike."),
            columns=(Column(_("Bill cycle"), lambda r, c: _dash(r.bill_cycle and r.bill_cycle.code),
                            "font-monospace"),),
            related=("bill_cycle",)),
    Section("customer_groups", "customer_group", "customer-groups", m.CustomerGroup, _("Customer groups"),
            _("customer group"), "users-group", SETUP, CustomerGroupForm,
            _("Segments price lists can target: staff, business, students...")),
    Section("sales_channels", "sales_channel", "sales-channels", m.SalesChannel, _("Sales channels"),
            _("sales channel"), "building-store", SETUP, SalesChannelForm,
            _("Where a sale happens: web, shop, telesales, partners.")),
    Section("sim_types", "sim_type", "sim-types", m.SimType, _("SIM types"), _("SIM type"), "device-sim", SETUP,
            SimTypeForm, _("Kinds of SIM card the inventory holds."),
            columns=(Column(_("Form factor"), lambda r, c: r.form_factor),)),
]

SECTIONS: dict[str, Section] = {s.key: s for s in SECTION_LIST}
BY_NAME: dict[str, Section] = {s.name: s for s in SECTION_LIST}
BY_MODEL: dict[type, Section] = {s.model: s for s in SECTION_LIST}
GROUPS = [COMMERCIAL, RATING, SETUP]


def grouped() -> list[tuple[str, list[Section]]]:
    return [(group, [s for s in SECTION_LIST if s.group == group]) for group in GROUPS]


@dataclass
class Nav:
    """The catalogue's side menu: sections grouped, the current one marked."""

    current: str = ""
    groups: list = field(default_factory=grouped)
