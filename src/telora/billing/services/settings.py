"""A brand's billing settings: payment terms, bank account, the large-adjustment threshold, late
usage lookback and the prepaid renewal policy (services.renewals), changed by billing.change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction

from telora.billing.models import RENEWAL_POLICIES, BillingSettings
from telora.billing.services.runs import require
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event

MAX_AMOUNT = Decimal("9999999999999999")  # NUMERIC(18, 2)
BOUNDS = {"payment_terms_days": (0, 365), "late_usage_periods": (0, 24), "late_usage_report_periods": (0, 24)}
FIELDS = ("payment_terms_days", "iban", "large_adjustment", "late_usage_periods", "late_usage_report_periods",
          "prepaid_renewal_policy", "prepaid_renewal_grace")


def _money(name: str, value, *, positive: bool) -> Decimal:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ServiceError(f"{name}: {value!r} is not an amount", field=name) from None
    if not amount.is_finite() or amount < 0 or (positive and amount == 0):
        raise ServiceError(f"{name}: must be {'more than' if positive else 'at least'} 0", field=name)
    if amount > MAX_AMOUNT:
        raise ServiceError(f"{name}: at most {MAX_AMOUNT}", field=name)
    if amount != amount.quantize(Decimal("0.01")):
        raise ServiceError(f"{name}: at most 2 decimals", field=name)
    return amount


def _clean(name: str, value):
    if name in BOUNDS:
        low, high = BOUNDS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ServiceError(f"{name}: a whole number from {low} to {high}", field=name)
        return value
    if name == "iban":
        text = "".join(str(value or "").split()).upper()
        if len(text) > 34:
            raise ServiceError("iban: at most 34 characters", field="iban")
        return text
    if name == "large_adjustment":
        return _money(name, value, positive=True)
    if name == "prepaid_renewal_grace":
        return _money(name, value, positive=False)
    if value not in RENEWAL_POLICIES:
        raise ServiceError(f"prepaid_renewal_policy: {value!r} is not one of {', '.join(RENEWAL_POLICIES)}",
                           field="prepaid_renewal_policy")
    return value


def update_settings(brand, *, actor: Actor, at: dt.datetime, **values) -> BillingSettings:
    """Change the named settings of the brand (the rest stay), audited with old and new values."""
    require(actor, brand, "billing.change")
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ServiceError(f"{unknown[0]}: not a billing setting", field=unknown[0])
    cleaned = {name: _clean(name, value) for name, value in values.items()}
    with transaction.atomic():
        row, _made = BillingSettings.objects.select_for_update().get_or_create(brand=brand)
        old, new = {}, {}
        for name, value in cleaned.items():
            if getattr(row, name) != value:
                old[name], new[name] = getattr(row, name), value
                setattr(row, name, value)
        if new:
            row.save(update_fields=list(new))
            record_event(actor=actor, at=at, action="billing_settings_change", obj=row, brand=brand, old=old, new=new)
    return row
