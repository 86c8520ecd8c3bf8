"""Checking and normalising customer input: pure functions, no database.

Each check returns the cleaned value or raises `InvalidValue` with a reason a person can act on;
services prefix the field name. Telecom and tax knowledge comes from field-made libraries
(python-stdnum for Luhn and VAT numbers, phonenumbers through the inventory's `clean_number`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata

from stdnum import luhn
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.gb import vat as gb_vat

from telora.inventory.validation import InvalidValue, clean_number

__all__ = [
    "InvalidValue", "add_months", "clean_circuit_id", "clean_phone", "clean_vat", "find_pan", "normalise_text",
    "query_digits",
]

# A run of digits, optionally split by single spaces or dashes (how people write card numbers).
DIGIT_RUN = re.compile(r"\d(?:[ \-]?\d)*")
CIRCUIT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:\-]{2,63}$")
VAT_SHAPE = re.compile(r"^[A-Z]{2}[0-9A-Z]{2,13}$")


def find_pan(text: str) -> str | None:
    """The first thing in `text` that looks like a payment card number (PAN), masked, or None.

    A PAN is 13 to 19 digits whose last digit is a Luhn check digit (ISO/IEC 7812). Telora never
    stores card numbers, so any such run refuses the input, whatever field it was typed in.
    """
    for match in DIGIT_RUN.finditer(text or ""):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
            return f"{digits[:4]}…{digits[-4:]}"
    return None


def normalise_text(value: str) -> str:
    """Lower case, accents dropped, one space between words: what name search compares."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def query_digits(value: str) -> str:
    """The digits of a typed number ('+31 6-1234' -> '3161234'); '' when it holds letters."""
    compact = re.sub(r"[\s\-./()+]", "", value or "")
    return compact if compact.isdigit() else ""


def clean_phone(value: str, region: str) -> str:
    """A contact phone number as E.164 digits (the inventory's rules: valid in its numbering plan)."""
    return clean_number(value, region)


def clean_circuit_id(value: str) -> str:
    """A broadband or fiber circuit id: 3 to 64 letters, digits and . _ / : -, starting alphanumeric."""
    text = (value or "").strip()
    if not text:
        raise InvalidValue("is required for this service type")
    if not CIRCUIT_ID.match(text):
        raise InvalidValue(f"{text!r} is not a circuit id: use 3 to 64 letters, digits and . _ / : -")
    return text


def clean_vat(value: str) -> str:
    """A VAT number with its country prefix (NL004495445B01); checked digit by digit for EU and GB."""
    text = re.sub(r"[\s.\-]", "", value or "").upper()
    if not text:
        return ""
    if not VAT_SHAPE.match(text):
        raise InvalidValue(f"{value!r} is not a VAT number: start with the country code (NL, DE, GB…)")
    country = text[:2].lower()
    checker = gb_vat if country == "gb" else eu_vat if country in eu_vat.MEMBER_STATES | {"el"} else None
    if checker is not None:
        try:
            checker.validate(text)
        except StdnumError as exc:
            raise InvalidValue(f"{text} is not a valid {text[:2]} VAT number ({exc.message.rstrip('.').lower()})") from None
    return text


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same wall-clock moment `months` later; the 31st becomes the month's last day."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
