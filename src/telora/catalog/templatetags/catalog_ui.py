"""Template helpers of the catalogue screens: validity badges, links to entities, compact form
cells for rows (bands, allowances...), and a history panel spanning an entity's dated rows."""

from __future__ import annotations

from django import forms, template
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telora.catalog import models as m
from telora.core.models import AuditEvent
from telora.ui.templatetags.telora_ui import history_panel

register = template.Library()

STATE_BADGES = {"current": ("green", gettext_lazy("In effect")), "future": ("azure", gettext_lazy("Starts later")),
                "ended": ("secondary", gettext_lazy("Closed"))}


@register.simple_tag
def state_badge(state: str, row=None):
    colour, label = STATE_BADGES.get(state, ("secondary", state))
    title = ""
    if row is not None:
        title = f"{row.valid_from:%Y-%m-%d} → {row.valid_to:%Y-%m-%d}" if row.valid_to else f"{row.valid_from:%Y-%m-%d} →"
    return format_html('<span class="badge bg-{}-lt" title="{}" data-state="{}">{}</span>', colour, title, state, label)


@register.filter
def catalog_url(obj, action: str = "detail") -> str:
    """A catalogue row's page, or its `edit` or `close` form ("" for rows without pages)."""
    from telora.catalog.views.sections import BY_MODEL

    section = BY_MODEL.get(type(obj))
    if section is None:
        return ""
    try:
        return reverse(f"catalog:{section.name}_{action}", args=[obj.pk])
    except NoReverseMatch:
        return ""


@register.filter
def validity(row) -> str:
    if row.valid_to:
        return f"{row.valid_from:%Y-%m-%d} – {row.valid_to:%Y-%m-%d}"
    return _("from %(day)s") % {"day": f"{row.valid_from:%Y-%m-%d}"}


def _kind(widget) -> str:
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "choices"
    if isinstance(widget, forms.Select):
        return "select"
    return "input"


@register.inclusion_tag("catalog/forms/cell.html")
def cell(field):
    """One field of a row form inside a table cell: no label, its errors below."""
    kind = _kind(field.field.widget)
    css = {"checkbox": "form-check-input", "select": "form-select form-select-sm",
           "input": "form-control form-control-sm", "choices": ""}[kind]
    css = " ".join(filter(None, [field.field.widget.attrs.get("class", ""), css, "is-invalid" if field.errors else ""]))
    html = field.as_widget(attrs={"class": css, "aria-label": str(field.label)}) if kind != "choices" else ""
    return {"field": field, "kind": kind, "widget_html": html}


@register.inclusion_tag("ui/includes/history.html", takes_context=True)
def catalog_history(context, obj):
    """The History panel of an entity together with its dated rows: a product's charges and
    prices, a rate plan's rates, a price list's prices (each is audited as its own object)."""
    parts = [(obj._meta.label_lower, [obj.pk])]
    if isinstance(obj, m.Product):
        parts += [("catalog.productprice", m.ProductPrice.objects.filter(charge__product=obj).values_list("pk", flat=True)),
                  ("catalog.productcharge", obj.charges.values_list("pk", flat=True))]
    elif isinstance(obj, m.RatePlan):
        parts.append(("catalog.rate", obj.rates.values_list("pk", flat=True)))
    elif isinstance(obj, m.PriceList):
        parts.append(("catalog.pricelistitem", obj.items.values_list("pk", flat=True)))
    wanted = Q(pk__in=[])
    for object_type, ids in parts:
        wanted |= Q(object_type=object_type, object_id__in=[str(pk) for pk in ids])
    return history_panel(context, obj, AuditEvent.objects.filter(wanted), fold_long=True)
