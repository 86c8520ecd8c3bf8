from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telora.core.money import Money, MoneyError, minor_unit


def test_rounds_half_up_to_minor_unit():
    assert Money("2.345", "EUR").rounded().amount == Decimal("2.35")
    assert Money("-2.345", "EUR").rounded().amount == Decimal("-2.35")
    assert Money("2.344999", "EUR").rounded().amount == Decimal("2.34")
    assert Money("1.5", "JPY").rounded().amount == Decimal("2")
    assert Money("1.0005", "BHD").rounded().amount == Decimal("1.001")


def test_minor_units_follow_iso_4217():
    assert (minor_unit("EUR"), minor_unit("JPY"), minor_unit("BHD")) == (2, 0, 3)


def test_rated_keeps_six_decimals():
    assert Money("0.0123455", "EUR").rated().amount == Decimal("0.012346")


def test_floats_are_refused():
    with pytest.raises(MoneyError, match="float"):
        Money(0.1, "EUR")


def test_unknown_currency_and_mixed_currencies_are_refused():
    with pytest.raises(MoneyError, match="unknown currency"):
        Money("1", "XXQ")
    with pytest.raises(MoneyError, match="currency mismatch"):
        Money("1", "EUR") + Money("1", "GBP")


def test_arithmetic_is_exact():
    total = Money.zero("EUR")
    for _ in range(10):
        total = total + Money("0.1", "EUR")
    assert total == Money("1.0", "EUR")
    assert Money("10", "EUR") * Decimal("0.333") == Money("3.330", "EUR")
    assert -Money("1.5", "EUR") == Money("-1.5", "EUR")


def test_format_is_locale_aware():
    assert Money("1234.5", "EUR").format("en") == "€1,234.50"
    assert Money("1234.5", "EUR").format("nl_NL") == "€\xa01.234,50"
    assert Money("1234.5", "GBP").format("en_GB") == "£1,234.50"


@given(st.decimals(min_value=-10**9, max_value=10**9, places=6, allow_nan=False))
def test_rounding_never_moves_more_than_half_a_cent(value):
    rounded = Money(value, "EUR").rounded().amount
    assert abs(rounded - value) <= Decimal("0.005")
    assert rounded == rounded.quantize(Decimal("0.01"))
