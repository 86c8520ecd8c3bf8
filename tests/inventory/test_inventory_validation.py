"""ICCID, IMSI, PIN/PUK checks and number normalisation: messages a person can act on."""

import pytest

from telora.inventory.validation import (
    InvalidValue,
    clean_iccid,
    clean_imsi,
    clean_number,
    clean_pin,
    clean_puk,
    format_number,
    imsi_parts,
)

from .factories import make_iccid


def test_a_valid_iccid_passes_with_separators_removed():
    iccid = make_iccid(42)
    assert clean_iccid(f"{iccid[:4]} {iccid[4:10]}-{iccid[10:]}") == iccid
    assert len(clean_iccid(make_iccid(42, prefix="89314404000")) ) == 20


@pytest.mark.parametrize(("value", "message"), [
    ("", "is required"),
    ("89314404x0000000009", "must contain only digits"),
    ("893144040000000", "must have 19 or 20 digits, not 15"),
    ("1231440400000000008", "must start with 89"),
])
def test_iccid_errors_say_what_is_wrong(value, message):
    with pytest.raises(InvalidValue, match=message):
        clean_iccid(value)


def test_a_wrong_luhn_check_digit_is_named():
    iccid = make_iccid(7)
    wrong = iccid[:-1] + str((int(iccid[-1]) + 1) % 10)
    with pytest.raises(InvalidValue) as exc:
        clean_iccid(wrong)
    assert str(exc.value) == "Luhn check digit is wrong"


def test_imsi_needs_15_digits_and_an_assigned_mcc_and_mnc():
    assert clean_imsi("204 08 0123456789") == "204080123456789"
    assert imsi_parts("310150123456789") == ("310", "150", "123456789")
    assert clean_imsi("001010123456789")  # the ITU test network
    with pytest.raises(InvalidValue, match="must have 15 digits, not 14"):
        clean_imsi("20408012345678")
    with pytest.raises(InvalidValue, match=r"unknown mobile country code \(MCC\) 123"):
        clean_imsi("123450123456789")
    with pytest.raises(InvalidValue, match=r"mobile network code \(MNC\) 99 is not assigned in country code 204"):
        clean_imsi("204990123456789")
    with pytest.raises(InvalidValue, match="only digits"):
        clean_imsi("20408O123456789")


def test_pins_and_puks():
    assert clean_pin("") == "" and clean_pin("0000") == "0000" and clean_pin("12345678") == "12345678"
    for bad in ("123", "123456789", "12a4"):
        with pytest.raises(InvalidValue, match="4 to 8 digits"):
            clean_pin(bad)
    assert clean_puk("12345678") == "12345678"
    with pytest.raises(InvalidValue, match="must be 8 digits"):
        clean_puk("1234567")


@pytest.mark.parametrize("raw", ["+45 20 12 34 56", "004520123456", "4520123456", "20 12 34 56", "+45-2012-3456"])
def test_danish_numbers_normalise_to_e164_digits(raw):
    assert clean_number(raw, "DK") == "4520123456"


def test_numbers_of_other_countries_and_national_forms():
    assert clean_number("0612345678", "NL") == "31612345678"
    assert clean_number("31612345678", "DK") == "31612345678"  # international without '+'
    assert clean_number("+31 6 12345678", "GB") == "31612345678"


@pytest.mark.parametrize("raw", ["12", "+45 1", "0612345678x", "hello"])
def test_invalid_numbers_are_refused(raw):
    with pytest.raises(InvalidValue, match="not a (valid )?phone number"):
        clean_number(raw, "DK")


def test_numbers_are_shown_the_international_way():
    assert format_number("4520123456") == "+45 20 12 34 56"
    assert format_number("4520123456", "e164") == "+4520123456"
