"""Checking and normalising SIM and number identifiers: pure functions, no database.

Each check returns the cleaned value or raises `InvalidValue` with a message a person can act on
("Luhn check digit is wrong"); callers prefix the field name and, in imports, the line number.
The field-made libraries do the telecom knowledge: python-stdnum (Luhn, the IMSI MCC/MNC table)
and phonenumbers (E.164 numbering plans).
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, PhoneNumber, region_code_for_country_code
from stdnum import numdb

DIGITS = re.compile(r"^[0-9]+$")
SEPARATORS = re.compile(r"[\s\-./()]")


class InvalidValue(ValueError):
    """A value that fails its check; `str()` is the reason, without the field name."""


def clean_iccid(value: str) -> str:
    """ICCID (ITU-T E.118): 19 or 20 digits, starting 89 (telecom), ending in a Luhn check digit."""
    iccid = SEPARATORS.sub("", value or "")
    if not iccid:
        raise InvalidValue("is required")
    if not DIGITS.match(iccid):
        raise InvalidValue("must contain only digits")
    if len(iccid) not in (19, 20):
        raise InvalidValue(f"must have 19 or 20 digits, not {len(iccid)}")
    if not iccid.startswith("89"):
        raise InvalidValue("must start with 89 (the telecom industry identifier)")
    if not luhn_valid(iccid):
        raise InvalidValue("Luhn check digit is wrong")
    return iccid


# each digit doubled, its digits summed (Luhn): 0→0, 1→2, ..., 5→1 (10), ..., 9→9 (18)
_DOUBLED = str.maketrans("0123456789", "0246813579")


def luhn_valid(digits: str) -> bool:
    """The Luhn check of a string of digits, done with C string operations (a migration checks
    every SIM card of a base: python-stdnum's digit-by-digit loop was a third of that time)."""
    kept, doubled = digits[-1::-2], digits[-2::-2].translate(_DOUBLED)
    return sum(map(int, kept + doubled)) % 10 == 0


@functools.lru_cache(maxsize=4096)
def _mcc_mnc(prefix: str) -> tuple[str, str] | str:
    """(MCC, MNC) for an IMSI's first six digits, or why they are implausible. Cached: few exist."""
    parts = numdb.get("imsi").info(prefix + "0" * (15 - len(prefix)))
    if len(parts) < 2:
        return f"unknown mobile country code (MCC) {prefix[:3]}"
    if len(parts) < 3 or not parts[1][1]:
        mnc = parts[1][0] if len(parts) == 3 else f"{prefix[3:5]} or {prefix[3:6]}"
        return f"mobile network code (MNC) {mnc} is not assigned in country code {parts[0][0]}"
    return parts[0][0], parts[1][0]


def clean_imsi(value: str) -> str:
    """IMSI (3GPP TS 23.003): 15 digits whose MCC and MNC are assigned (python-stdnum's table)."""
    imsi = SEPARATORS.sub("", value or "")
    if not imsi:
        raise InvalidValue("is required")
    if not DIGITS.match(imsi):
        raise InvalidValue("must contain only digits")
    if len(imsi) != 15:
        raise InvalidValue(f"must have 15 digits, not {len(imsi)}")
    found = _mcc_mnc(imsi[:6])
    if isinstance(found, str):
        raise InvalidValue(found)
    return imsi


def imsi_parts(imsi: str) -> tuple[str, str, str]:
    """(MCC, MNC, MSIN) of a valid IMSI."""
    mcc, mnc = _mcc_mnc(imsi[:6])
    return mcc, mnc, imsi[len(mcc) + len(mnc):]


def clean_pin(value: str) -> str:
    """PIN1/PIN2 (3GPP TS 31.101): 4 to 8 digits; empty when the card has none on record."""
    pin = (value or "").strip()
    if pin and (not DIGITS.match(pin) or not 4 <= len(pin) <= 8):
        raise InvalidValue("must be 4 to 8 digits")
    return pin


def clean_puk(value: str) -> str:
    """PUK1/PUK2: exactly 8 digits; empty when unknown."""
    puk = (value or "").strip()
    if puk and (not DIGITS.match(puk) or len(puk) != 8):
        raise InvalidValue("must be 8 digits")
    return puk


def clean_number(value: str, region: str) -> str:
    """A phone number as E.164 digits without '+' (e.g. '4520123456').

    Accepts '+45 20 12 34 56', '004520123456' and '4520123456' (international, without prefix),
    and national forms ('20 12 34 56', '0612345678') read in `region`, the brand's country.
    A number must be valid in its country's numbering plan, not just of plausible length.
    """
    raw = (value or "").strip()
    if not raw:
        raise InvalidValue("is required")
    compact = SEPARATORS.sub("", raw)
    if compact.startswith("+"):
        candidates = [compact]
    elif compact.isdigit():
        # As written in the brand's country first (phonenumbers also strips a leading country
        # code or international prefix of that country), then as international without '+'.
        candidates = [compact, "+" + compact]
    else:
        raise InvalidValue(f"{raw!r} is not a phone number")
    parsed = _parsed_e164(compact) if compact.startswith("+") else None
    if parsed is not None:
        candidates = []
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            parsed = number
            break
    if parsed is None:
        raise InvalidValue(f"{raw!r} is not a valid phone number (read in {region})")
    return f"{parsed.country_code}{phonenumbers.national_significant_number(parsed)}"


def format_number(digits: str, style: str = "international") -> str:
    """E.164 digits shown to people: 'international' (+45 20 12 34 56) or 'e164' (+4520123456)."""
    if style == "e164":
        return "+" + digits
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return "+" + digits
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@functools.lru_cache(maxsize=512)
def _national_prefix(country_code: int) -> re.Pattern | None:
    region = region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    pattern = metadata.national_prefix_for_parsing if metadata is not None else None
    return re.compile(pattern) if pattern else None


def _parsed_e164(compact: str) -> PhoneNumber | None:
    """'+' and digits read as `phonenumbers.parse` reads them, without its general machinery
    (most of the time of checking a number); None, and `parse` decides, where parse might read
    it otherwise: a national number with a leading zero or one its country's national prefix
    could be stripped from."""
    digits = compact[1:]
    if not digits.isdigit() or digits[0] == "0":
        return None
    for length in (1, 2, 3):
        country_code = int(digits[:length])
        if country_code in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[length:]
    if not 2 <= len(national) <= 17 or national[0] == "0":
        return None
    prefix = _national_prefix(country_code)
    if prefix is not None and prefix.match(national):
        return None
    number = PhoneNumber(country_code=country_code, national_number=int(national))
    plan = _numbering_plan(country_code)
    if plan is None:
        return number if phonenumbers.is_valid_number(number) else None
    return number if _valid_in(plan, national) else None


_Plan = tuple[tuple[frozenset, re.Pattern], tuple[tuple[frozenset, re.Pattern], ...]]


@functools.lru_cache(maxsize=512)
def _numbering_plan(country_code: int) -> _Plan | None:
    """The patterns `phonenumbers.is_valid_number` tries for a country code of one region: its
    general description, then each number type (mobile only where its pattern differs from fixed
    line's, as phonenumbers tests it). None for a code several regions share (+1, +7, +44...),
    where phonenumbers first decides the region."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions or len(regions) != 1:
        return None
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, regions[0].upper())
    if metadata is None or (regions[0] != "001" and phonenumbers.country_code_for_valid_region(regions[0])
                            != country_code):
        return None

    def desc(d):
        if d is None or not d.national_number_pattern:
            return None
        return frozenset(d.possible_length or ()), re.compile(d.national_number_pattern)

    types = [metadata.premium_rate, metadata.toll_free, metadata.shared_cost, metadata.voip,
             metadata.personal_number, metadata.pager, metadata.uan, metadata.voicemail, metadata.fixed_line]
    if not metadata.same_mobile_and_fixed_line_pattern:
        types.append(metadata.mobile)
    general = desc(metadata.general_desc)
    if general is None:
        return None
    return general, tuple(d for d in map(desc, types) if d is not None)


def _valid_in(plan: _Plan, national: str) -> bool:
    """phonenumbers' validity (a type other than UNKNOWN) of a national significant number: the
    general description and one type's length and whole pattern match."""
    (lengths, pattern), types = plan
    if (lengths and len(national) not in lengths) or not pattern.fullmatch(national):
        return False
    return any((not lengths or len(national) in lengths) and pattern.fullmatch(national) for lengths, pattern in types)
