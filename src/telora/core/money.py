"""Exact money: a Decimal amount with its ISO 4217 currency.

Rated amounts keep up to 6 decimals; invoice lines and totals round once, half-up, to the
currency's minor unit with `rounded()`. Floats are refused outright.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision, list_currencies

RATING_PLACES = Decimal("0.000001")
_KNOWN_CURRENCIES = frozenset(list_currencies())


class MoneyError(ValueError):
    pass


def is_currency(code: str) -> bool:
    return code in _KNOWN_CURRENCIES


def minor_unit(currency: str) -> int:
    """Digits after the decimal point for the currency (EUR 2, JPY 0, BHD 3)."""
    return get_currency_precision(currency)


def to_decimal(value) -> Decimal:
    if isinstance(value, float):
        raise MoneyError("amounts must not be floats; pass a Decimal, int or string")
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"not a number: {value!r}") from exc


def round_half_up(amount: Decimal, places: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self):
        object.__setattr__(self, "amount", to_decimal(self.amount))
        if not is_currency(self.currency):
            raise MoneyError(f"unknown currency {self.currency!r}")
        if not self.amount.is_finite():
            raise MoneyError("amount must be finite")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"currency mismatch: {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor) -> Money:
        if isinstance(factor, Money):
            raise TypeError("cannot multiply Money by Money")
        return Money(self.amount * to_decimal(factor), self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def rounded(self) -> Money:
        """Half-up to the currency's minor unit: the one rounding an invoice line gets."""
        return Money(round_half_up(self.amount, minor_unit(self.currency)), self.currency)

    def rated(self) -> Money:
        """Half-up to 6 decimals: the precision rated usage keeps."""
        return Money(self.amount.quantize(RATING_PLACES, rounding=ROUND_HALF_UP), self.currency)

    def format(self, locale: str = "en") -> str:
        return format_currency(self.rounded().amount, self.currency, locale=locale)

    def __str__(self) -> str:
        return f"{self.rounded().amount} {self.currency}"
