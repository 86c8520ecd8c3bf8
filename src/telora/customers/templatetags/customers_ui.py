"""Template helpers of the customer screens: status badges, numbers as people read them, money."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telora.core.money import minor_unit, round_half_up
from telora.customers.constants import NUMBER_TYPES
from telora.inventory.validation import format_number

register = template.Library()

CUSTOMER_STATUS = {"active": "green", "suspended": "orange", "closed": "secondary"}
SUBSCRIPTION_STATUS = {"pending": "azure", "active": "green", "suspended": "orange", "terminated": "secondary"}
STATUS_LABELS = {
    "active": gettext_lazy("Active"), "suspended": gettext_lazy("Suspended"), "closed": gettext_lazy("Closed"),
    "pending": gettext_lazy("Pending"), "terminated": gettext_lazy("Terminated"),
}
SERVICE_TYPE_LABELS = {
    "mobile_prepaid": gettext_lazy("Mobile prepaid"), "mobile_postpaid": gettext_lazy("Mobile postpaid"),
    "fixed_line": gettext_lazy("Fixed line"), "broadband": gettext_lazy("Broadband"), "voip": gettext_lazy("VoIP"),
    "fiber": gettext_lazy("Fiber"), "tv": gettext_lazy("TV"), "content": gettext_lazy("Content"),
}
SERVICE_TYPE_ICONS = {
    "mobile_prepaid": "device-mobile", "mobile_postpaid": "device-mobile", "fixed_line": "phone",
    "broadband": "router", "voip": "phone-call", "fiber": "network", "tv": "device-tv", "content": "movie",
}
ROLE_LABELS = {
    "legal": gettext_lazy("Legal"), "billing": gettext_lazy("Billing"), "shipping": gettext_lazy("Shipping"),
    "installation": gettext_lazy("Installation"), "primary": gettext_lazy("Primary"),
    "technical": gettext_lazy("Technical"), "other": gettext_lazy("Other"),
}
ID_TYPE_LABELS = {"passport": gettext_lazy("Passport"), "id_card": gettext_lazy("Identity card"),
                  "driving_licence": gettext_lazy("Driving licence"),
                  "residence_permit": gettext_lazy("Residence permit"), "other": gettext_lazy("Other document")}
PAYMENT_LABELS = {"invoice": gettext_lazy("Pay by invoice"), "direct_debit": gettext_lazy("Direct debit"),
                  "card": gettext_lazy("Card (token)"), "bank_transfer": gettext_lazy("Bank transfer"),
                  "other": gettext_lazy("Other")}
KIND_LABELS = {"plan": gettext_lazy("Plan"), "addon": gettext_lazy("Add-on"), "one_time": gettext_lazy("One-time"),
               "device": gettext_lazy("Device")}
END_REASONS = {"plan_change": gettext_lazy("plan changed"), "removed": gettext_lazy("removed"),
               "terminated": gettext_lazy("terminated"), "once": gettext_lazy("one-time")}


def _badge(colour: str, label, status: str, extra: str = ""):
    return format_html('<span class="badge bg-{}-lt {}" data-status="{}">{}</span>', colour, extra, status, label)


@register.simple_tag
def customer_status(customer, extra: str = ""):
    return _badge(CUSTOMER_STATUS.get(customer.status, "secondary"), STATUS_LABELS.get(customer.status,
                                                                                        customer.status),
                  customer.status, extra)


@register.simple_tag
def subscription_status(subscription, extra: str = ""):
    status = subscription.status
    return _badge(SUBSCRIPTION_STATUS.get(status, "secondary"), STATUS_LABELS.get(status, status), status, extra)


@register.filter
def service_label(service_type: str) -> str:
    return str(SERVICE_TYPE_LABELS.get(service_type, service_type.replace("_", " ")))


@register.filter
def service_icon(service_type: str) -> str:
    return SERVICE_TYPE_ICONS.get(service_type, "plug")


@register.filter
def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


@register.filter
def id_type_label(id_type: str) -> str:
    return str(ID_TYPE_LABELS.get(id_type, id_type))


@register.filter
def payment_label(method: str) -> str:
    return str(PAYMENT_LABELS.get(method, method))


@register.filter
def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


@register.filter
def end_reason(reason: str) -> str:
    return str(END_REASONS.get(reason, reason))


@register.filter
def phone(digits: str) -> str:
    """E.164 digits as people read them (+31 6 12345678); empty stays empty."""
    return format_number(digits) if digits else ""


@register.filter
def identifier(subscription) -> str:
    """What identifies a line: its number (formatted) or its circuit id."""
    if not subscription.identifier:
        return _("(no identifier)")
    if subscription.service_type in NUMBER_TYPES:
        return format_number(subscription.identifier)
    return subscription.identifier


@register.simple_tag
def money(amount, currency: str) -> str:
    """An amount rounded once to the currency's minor unit, with its currency: "EUR 25.00"."""
    if amount is None or amount == "":
        return "—"
    places = minor_unit(currency)
    return f"{currency} {round_half_up(Decimal(amount), places):,.{places}f}"


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def months_left(moment, now=None) -> int | None:
    """Whole months from now until `moment` (a commitment end), or None when it has passed."""
    from telora.core import clock

    if moment is None:
        return None
    now = now or clock.now()
    if moment <= now:
        return None
    return max((moment.year - now.year) * 12 + moment.month - now.month - (moment.day < now.day), 0)


@register.filter
def audit_value(value):
    """An audited value for people: timestamps in the active timezone to the minute, the rest as the
    History panel shows them."""
    import datetime as dt

    from django.utils import timezone

    from telora.ui.templatetags.telora_ui import show_value

    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return show_value(value)
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return moment.strftime("%Y-%m-%d %H:%M")
    return show_value(value)


@register.filter
def is_creation(event) -> bool:
    """An event that only sets values (a creation, an upload): shown compactly."""
    return all(not isinstance(pair, list) or pair[0] in (None, "") for pair in (event.changes or {}).values())
