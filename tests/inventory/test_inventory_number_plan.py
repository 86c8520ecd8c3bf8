"""The E.164 check's own reading of a country's numbering plan gives phonenumbers' answer
(`is_valid_number`) for every number tried: each region's example numbers of each type, and
each of them changed (a digit more, a digit less, a digit changed) so that invalid ones are tried too."""

import phonenumbers
import pytest
from phonenumbers import PhoneNumber, PhoneNumberType

from telora.inventory.validation import InvalidValue, _numbering_plan, _parsed_e164, _valid_in, clean_number

TYPES = [PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE, PhoneNumberType.PREMIUM_RATE,
         PhoneNumberType.SHARED_COST, PhoneNumberType.VOIP, PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.PAGER,
         PhoneNumberType.UAN, PhoneNumberType.VOICEMAIL]


def _candidates() -> set[tuple[int, str]]:
    found = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            national = phonenumbers.national_significant_number(example)
            found |= {(example.country_code, n) for n in (
                national, national + "7", national[:-1], national[:-1] + "0", national[:2] + "9" + national[3:],
                "1" + national[1:], "9" + national[1:]) if n}
    return found


def test_the_plan_read_once_gives_phonenumbers_answer_for_every_number_tried():
    tried, valid = 0, 0
    for code, national in sorted(_candidates()):
        plan = _numbering_plan(code)
        if plan is None or national[0] == "0":  # codes of several regions, and leading zeros: phonenumbers decides
            continue
        theirs = phonenumbers.is_valid_number(PhoneNumber(country_code=code, national_number=int(national)))
        assert _valid_in(plan, national) == theirs, f"+{code} {national}"
        tried += 1
        valid += theirs
    assert tried > 2000 and 500 < valid < tried  # both answers were tried, in most countries


def test_a_valid_number_reads_as_phonenumbers_reads_it():
    assert clean_number("+45 20 12 34 56", "DK") == "4520123456"
    assert _parsed_e164("+4520123456") is not None
    assert _parsed_e164("+451234567") is None  # seven digits: no Danish number
    with pytest.raises(InvalidValue):
        clean_number("+45 123 45 67", "DK")
