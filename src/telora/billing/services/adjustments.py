"""CSR adjustments: an ad-hoc net credit or debit with a reason, billed on the next invoice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction

from telora.billing.models import AMOUNT, Adjustment
from telora.billing.services.runs import require, settings_of
from telora.core.money import minor_unit
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event

REASON_MAX = Adjustment._meta.get_field("reason").max_length
WHOLE_DIGITS = AMOUNT["max_digits"] - AMOUNT["decimal_places"]


def create_adjustment(account, amount, *, reason: str, actor: Actor, at: dt.datetime, subscription=None,
                      tax_code: str = "") -> Adjustment:
    """`amount` net, in the account's currency: negative credits the customer, positive debits.
    Needs billing.adjust; at or above the brand's large-adjustment amount also billing.adjust_large."""
    brand = account.brand
    require(actor, brand, "billing.adjust")
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise ServiceError(f"amount: {amount!r} is not an amount", field="amount") from None
    if isinstance(amount, float) or not value.is_finite() or value == 0:
        raise ServiceError("amount: must be a non-zero amount", field="amount")
    if value.adjusted() >= WHOLE_DIGITS:
        raise ServiceError(f"amount: at most {WHOLE_DIGITS} digits before the decimal point", field="amount")
    places = minor_unit(account.currency)
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise ServiceError(f"amount: at most {places} decimals in {account.currency}", field="amount")
    if abs(value) >= settings_of(brand).large_adjustment:
        require(actor, brand, "billing.adjust_large")
    if not (reason or "").strip():
        raise ServiceError("reason: say why", field="reason")
    if len(reason.strip()) > REASON_MAX:
        raise ServiceError(f"reason: at most {REASON_MAX} characters ({len(reason.strip())} given)", field="reason")
    if subscription is not None and subscription.billing_account_id != account.pk:
        raise ServiceError("subscription: not billed on this account", field="subscription")
    with transaction.atomic():
        adjustment = Adjustment.objects.create(brand=brand, account=account, subscription=subscription, amount=value,
                                               reason=reason.strip(), tax_code=tax_code, created_at=at,
                                               created_by=actor.label[:200])
        record_event(actor=actor, at=at, action="adjustment_create", obj=adjustment, brand=brand,
                     new={"account": account.number, "amount": value, "reason": adjustment.reason,
                          "subscription": getattr(subscription, "pk", None)})
    return adjustment
