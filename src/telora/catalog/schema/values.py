"""Reading one YAML value or mapping: exact decimals, codes, times, references.

Amounts must be exact: strings ("0.30") or integers. A YAML float (price: 0.30 unquoted) is
refused, because the parser has already turned it into a binary fraction.
"""

from __future__ import annotations

import re
from decimal import Decimal

from telora.catalog.constants import MINUTES_PER_DAY
from telora.catalog.schema.errors import Errors, join

CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
DECIMAL = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
TIME = re.compile(r"([01][0-9]|2[0-4]):([0-5][0-9])")
MAX_PLACES = 6
MAX_INTEGER_DIGITS = 12
MISSING = object()


def type_name(value) -> str:
    if value is None:
        return "nothing"
    return {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "a mapping"}.get(type(value), type(value).__name__)


def as_code(value, path: str, errors: Errors) -> str | None:
    if not isinstance(value, str):
        errors.add(path, f"expected a code, got {type_name(value)}")
        return None
    if not CODE.fullmatch(value):
        errors.add(path, f"bad code {value!r} (letters, digits, '_', '.', '-'; at most 40)")
        return None
    return value


def as_text(value, path: str, errors: Errors, *, max_length: int = 200, blank: bool = False) -> str | None:
    if value is None and blank:
        return ""
    if not isinstance(value, str) or (not blank and not value.strip()):
        errors.add(path, f"expected text, got {type_name(value)}" if not isinstance(value, str) else "required")
        return None
    if len(value) > max_length:
        errors.add(path, f"longer than {max_length} characters")
        return None
    return value


def as_decimal(value, path: str, errors: Errors, *, what: str = "amount", minimum=Decimal(0),
               maximum=None) -> Decimal | None:
    if isinstance(value, float):
        errors.add(path, f"write the {what} as a string in quotes (\"{value!r}\"): an unquoted "
                         "decimal is a YAML float and not exact")
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        errors.add(path, f"bad decimal: expected a string like \"0.30\", got {type_name(value)}")
        return None
    text = str(value).strip()
    if not DECIMAL.fullmatch(text):
        errors.add(path, f"bad decimal {value!r} (write digits with an optional '.', e.g. \"0.30\")")
        return None
    number = Decimal(text)
    integer, _, fraction = text.lstrip("+-").partition(".")
    if len(fraction) > MAX_PLACES and fraction[MAX_PLACES:].strip("0"):
        errors.add(path, f"bad decimal {value!r}: at most {MAX_PLACES} decimal places")
        return None
    if len(integer.lstrip("0")) > MAX_INTEGER_DIGITS:
        errors.add(path, f"bad decimal {value!r}: too large")
        return None
    if minimum is not None and number < minimum:
        errors.add(path, f"must not be less than {minimum}")
        return None
    if maximum is not None and number > maximum:
        errors.add(path, f"must not be more than {maximum}")
        return None
    return number


def as_int(value, path: str, errors: Errors, *, minimum: int | None = 0, maximum: int | None = None) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(path, f"expected a whole number, got {type_name(value)}")
        return None
    if minimum is not None and value < minimum:
        errors.add(path, f"must be at least {minimum}")
        return None
    if maximum is not None and value > maximum:
        errors.add(path, f"must be at most {maximum}")
        return None
    return value


def as_bool(value, path: str, errors: Errors) -> bool | None:
    if not isinstance(value, bool):
        errors.add(path, f"expected true or false, got {type_name(value)}")
        return None
    return value


def as_choice(value, path: str, errors: Errors, choices, *, what: str) -> str | None:
    if not isinstance(value, str) or value not in choices:
        errors.add(path, f"unknown {what} {value!r} (one of: {', '.join(choices)})")
        return None
    return value


def as_minutes(value, path: str, errors: Errors) -> int | None:
    """'HH:MM' (00:00 to 24:00) as minutes of the day."""
    match = TIME.fullmatch(value) if isinstance(value, str) else None
    minutes = int(match[1]) * 60 + int(match[2]) if match else None
    if minutes is None or minutes > MINUTES_PER_DAY:
        errors.add(path, f"bad time {value!r}: write \"HH:MM\" in quotes, from \"00:00\" to \"24:00\"")
        return None
    return minutes


def format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def as_list(value, path: str, errors: Errors) -> list | None:
    if not isinstance(value, list):
        errors.add(path, f"expected a list, got {type_name(value)}")
        return None
    return value


class Reader:
    """One mapping of the YAML: reads its fields by name and refuses unknown ones."""

    def __init__(self, data, path: str, errors: Errors, fields):
        self.path = path
        self.errors = errors
        self.ok = isinstance(data, dict)
        self.data = data if self.ok else {}
        if not self.ok:
            errors.add(path, f"expected a mapping (key: value), got {type_name(data)}")
        for key in self.data:
            if key not in fields:
                errors.add(join(path, str(key)), f"unknown field (known: {', '.join(fields)})")

    def at(self, key) -> str:
        return join(self.path, key)

    def get(self, key, default=None, *, required: bool = False):
        """The value, or `default` when absent or null; MISSING (with an error) when required."""
        value = self.data.get(key)
        if value is not None:
            return value
        if required:
            if self.ok:
                self.errors.add(self.at(key), "required")
            return MISSING
        return default

    def code(self, key: str = "code", *, required: bool = True) -> str | None:
        value = self.get(key, required=required)
        return None if value is MISSING or value is None else as_code(value, self.at(key), self.errors)

    def text(self, key: str = "name", *, required: bool = True, max_length: int = 200) -> str | None:
        value = self.get(key, "", required=required)
        if value is MISSING:
            return None
        return as_text(value, self.at(key), self.errors, max_length=max_length, blank=not required)

    def decimal(self, key: str, *, required: bool = False, **options) -> Decimal | None:
        value = self.get(key, required=required)
        if value is MISSING or value is None:
            return None
        return as_decimal(value, self.at(key), self.errors, **options)

    def integer(self, key: str, default=None, *, required: bool = False, **options) -> int | None:
        value = self.get(key, default, required=required)
        if value is MISSING or value is None:
            return None
        return as_int(value, self.at(key), self.errors, **options)

    def boolean(self, key: str, default: bool = False) -> bool:
        checked = as_bool(self.get(key, default), self.at(key), self.errors)
        return default if checked is None else checked

    def choice(self, key: str, choices, *, what: str, default=None, required: bool = True) -> str | None:
        value = self.get(key, default, required=required)
        if value is MISSING or value is None:
            return None
        return as_choice(value, self.at(key), self.errors, choices, what=what)

    def items(self, key: str) -> list[tuple[object, str]]:
        """The elements of an optional list field with their paths."""
        value = self.get(key, [])
        checked = as_list(value, self.at(key), self.errors)
        return [(item, join(self.at(key), index)) for index, item in enumerate(checked or [])]
