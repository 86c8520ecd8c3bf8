"""/api/v1/rating/settings: a brand's rating settings (the low-balance threshold prepaid lines
are warned at when their plan product names none; see docs/rating.md).

- `GET /api/v1/rating/settings?brand=CODE`: needs rating.view in the brand.
- `PUT /api/v1/rating/settings` {brand, low_balance_threshold}: needs rating.change in the brand;
  the amount is read exactly (a string or a JSON number, never through float); audited.

The brand may be left out by a caller who holds the right in one brand only.
"""

from __future__ import annotations

from decimal import Decimal

from ninja import Router, Schema
from pydantic import ConfigDict, Field

from telora.api.auth import require_perm
from telora.api.errors import ERRORS
from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor
from telora.rating.api.schemas import ExactBody, Text
from telora.rating.api.usage import brand_for
from telora.rating.services.settings import rating_settings, update_rating_settings

router = Router(tags=["usage"])


class RatingSettingsOut(Schema):
    brand: str
    currency: str
    low_balance_threshold: str = Field(description="An exact amount in the brand's currency")


class RatingSettingsIn(Schema):
    model_config = ConfigDict(extra="forbid")

    brand: str | None = Field(None, max_length=40, description="Brand code; may be left out when you hold the "
                                                               "right in one brand")
    low_balance_threshold: Text = Field(description="0 to 999999999999.999999, at most 6 decimals")


def _amount(value: Decimal) -> str:
    """5.000000 -> "5.00", 2.125000 -> "2.125": the digits kept, at least two decimals."""
    text = f"{value.quantize(Decimal('0.000001')):f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def _out(brand: Brand) -> dict:
    return {"brand": brand.code, "currency": brand.currency,
            "low_balance_threshold": _amount(rating_settings(brand).low_balance_threshold)}


@router.get("", response={200: RatingSettingsOut, **ERRORS}, summary="Read a brand's rating settings")
def get_settings(request, brand: str | None = None):
    require_perm(request, "rating.view")
    return _out(brand_for(request, brand, "rating.view"))


@router.put("", response={200: RatingSettingsOut, **ERRORS}, summary="Change a brand's rating settings")
def put_settings(request, payload: ExactBody[RatingSettingsIn]):
    require_perm(request, "rating.change")
    brand = brand_for(request, payload.brand, "rating.change")
    update_rating_settings(brand, actor=Actor.from_request(request), at=clock.now(),
                           low_balance_threshold=payload.low_balance_threshold)
    return _out(brand)
