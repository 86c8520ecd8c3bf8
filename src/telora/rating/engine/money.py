"""Exact money in integer micro-units (millionths of the currency unit).

The engine computes in integers and turns them into Decimal only at its edge: integer arithmetic is
exact and several times faster than Decimal. Rated amounts keep 6 decimals, rounded half-up
(ties away from zero, as Decimal's ROUND_HALF_UP).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MICRO = 1_000_000
_SIX_PLACES = Decimal("0.000001")


def div_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to an integer, half away from zero (denominator > 0)."""
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((-2 * numerator + denominator) // (2 * denominator))


def to_micro(amount: Decimal | int | str) -> int:
    """An amount in micro-units; more than 6 decimals are rounded half-up."""
    value = Decimal(amount)
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    return int((value * MICRO).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_micro(micro: int) -> Decimal:
    """Micro-units as a Decimal with exactly 6 decimals (625000 -> Decimal('0.625000'))."""
    return Decimal(micro).scaleb(-6)


def ratio(amount: Decimal) -> tuple[int, int]:
    """An exact fraction for a Decimal price, so price * q / unit needs no rounding until the end."""
    numerator, denominator = Decimal(amount).as_integer_ratio()
    return numerator, denominator


def round6(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(_SIX_PLACES, rounding=ROUND_HALF_UP)
