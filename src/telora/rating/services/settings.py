"""A brand's rating settings (one row per brand, the defaults without one): the low-balance
threshold prepaid subscriptions are warned at when their plan product names none."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction

from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.rating.models import RatingSettings
from telora.rating.services.intake import require

DEFAULT_LOW_BALANCE = Decimal("5.00")
SETTINGS_FIELDS = ("low_balance_threshold",)
_LIMIT = Decimal(10) ** 12


def rating_settings(brand: Brand | int) -> RatingSettings:
    """The brand's settings row, or an unsaved one with the defaults."""
    brand_id = getattr(brand, "pk", brand)
    found = RatingSettings.objects.filter(brand_id=brand_id).first()
    return found or RatingSettings(brand_id=brand_id, low_balance_threshold=DEFAULT_LOW_BALANCE)


def _threshold(value) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ServiceError(f"low_balance_threshold: {value!r} is not an amount",
                           field="low_balance_threshold") from None
    if not amount.is_finite() or amount < 0 or amount >= _LIMIT or amount != round(amount, 6):
        raise ServiceError("low_balance_threshold: an amount from 0 to 999999999999.999999 (at most 6 decimals)",
                           field="low_balance_threshold")
    return amount


def update_rating_settings(brand: Brand, *, actor: Actor, at: dt.datetime, **changes) -> RatingSettings:
    """Change the brand's rating settings (rating.change in the brand), audited with old and new."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ServiceError(f"{name}: not a rating setting", field=name)
    require(actor, brand, "rating.change")
    values = {}
    if "low_balance_threshold" in changes:
        values["low_balance_threshold"] = _threshold(changes["low_balance_threshold"])
    with transaction.atomic():
        row, _made = RatingSettings.objects.select_for_update().get_or_create(
            brand=brand, defaults={"low_balance_threshold": DEFAULT_LOW_BALANCE})
        old = {name: getattr(row, name) for name in values if getattr(row, name) != values[name]}
        for name, value in values.items():
            setattr(row, name, value)
        row.save()
        if old:
            record_event(actor=actor, at=at, action="update", obj=row, brand=brand, old=old,
                         new={name: values[name] for name in old})
    return row
