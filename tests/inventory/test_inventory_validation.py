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


def _parsed_by_phonenumbers(value: str) -> str | None:
    import phonenumbers

    try:
        number = phonenumbers.parse(value, "DK")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return f"{number.country_code}{phonenumbers.national_significant_number(number)}"


def test_the_quick_reading_of_e164_numbers_agrees_with_phonenumbers_everywhere():
    """clean_number reads '+' and digits itself (a migration checks a whole base of numbers); for
    every region's example numbers, and for those numbers with a digit changed, added or dropped,
    it takes a number exactly where phonenumbers' own parsing does, with the same digits."""
    import random

    import phonenumbers

    from telora.inventory.validation import _parsed_e164

    rng = random.Random(7)
    values = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
                     phonenumbers.PhoneNumberType.TOLL_FREE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            digits = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)[1:]
            values.append("+" + digits)
            for _ in range(4):
                mutated = list(digits)
                mutated[rng.randrange(len(mutated))] = str(rng.randrange(10))
                if rng.random() < 0.3:
                    mutated.insert(rng.randrange(len(mutated)), str(rng.randrange(10)))
                values.append("+" + "".join(mutated))
    quick = 0
    for value in values:
        parsed = _parsed_e164(value)
        if parsed is not None:
            quick += 1
            assert f"{parsed.country_code}{parsed.national_number}" == _parsed_by_phonenumbers(value), value
        assert (clean_number(value, "DK") if _parsed_by_phonenumbers(value) else None) == _parsed_by_phonenumbers(value)
    assert quick > len(values) // 3  # the quick path is the common one, not a corner


@pytest.mark.parametrize("value", ["+39 06 1234 5678", "+4407911123456", "+7 8001234567"])
def test_numbers_the_quick_reading_leaves_to_phonenumbers_are_read_as_before(value):
    """A leading zero (Italy) or a national prefix after the country code goes the long way."""
    expected = _parsed_by_phonenumbers(value.replace(" ", ""))
    if expected is None:
        with pytest.raises(InvalidValue):
            clean_number(value, "DK")
    else:
        assert clean_number(value, "DK") == expected


def test_the_luhn_check_agrees_with_python_stdnum():
    import random

    from stdnum import luhn

    from telora.inventory.validation import luhn_valid

    rng = random.Random(3)
    for _ in range(5000):
        digits = str(rng.randrange(10**17, 10**20))
        assert luhn_valid(digits) == luhn.is_valid(digits), digits
    assert luhn_valid("8931440400000000008") is luhn.is_valid("8931440400000000008")
