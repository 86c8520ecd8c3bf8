"""Flat files of a run's invoices for the print house and the ERP (docs/billing.md, Outputs).

CSV: a header row, then one row per invoice line. JSON Lines: one invoice document per line.
Amounts and quantities are written as the exact decimal strings of the documents; each document is
checked first (contract.check_document), so a file never carries an invoice that does not add up.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import TextIO

from telora.billing.documents.contract import DocumentError, check_document, decimal
from telora.core.exports import csv_writer

CSV_COLUMNS = (
    "invoice_number", "account", "customer", "subscription", "kind", "description",
    "period_start", "period_end", "quantity", "unit_price", "amount", "tax_code", "currency",
)


def _text(value) -> str:
    return "" if value is None else str(value)


def _exact(value, field: str) -> str:
    """The decimal as written in the document (Decimal('38.32') -> '38.32'); '' for none; floats refused."""
    if value is None or value == "":
        return ""
    number = decimal(value, field)
    return value.strip() if isinstance(value, str) else str(number)


def csv_rows(document: dict):
    """The CSV rows (without the header) of one invoice document."""
    check_document(document)
    invoice = document["invoice"]
    head = (_text(invoice.get("number")), _text(document["account"]["number"]), _text(document["customer"]["number"]))
    for s, section in enumerate(document["sections"]):
        subscription = section.get("subscription") or {}
        for n, line in enumerate(section["lines"]):
            at = f"sections[{s}].lines[{n}]"
            yield (*head, _text(subscription.get("identifier")), line["kind"], _text(line.get("description")),
                   _text(line.get("period_start")), _text(line.get("period_end")),
                   _exact(line.get("quantity"), f"{at}.quantity"), _exact(line.get("unit_price"), f"{at}.unit_price"),
                   _exact(line["amount"], f"{at}.amount"), _text(line["tax_code"]), invoice["currency"])


def write_csv(documents: Iterable[dict], stream: TextIO) -> int:
    """Write the header and one row per line of every document; returns the number of line rows.

    Open the file with newline="" (rows end in CRLF, as RFC 4180 writes them) and UTF-8. Text that a
    spreadsheet would run as a formula (a description beginning with `=`) is written with a leading
    `'` (core.exports); amounts and quantities stay numbers.
    """
    writer = csv_writer(stream)
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for document in documents:
        for row in csv_rows(document):
            writer.writerow(row)
            rows += 1
    return rows


def _plain(value, field: str = ""):
    """The document as JSON-ready data: Decimals as exact strings, dates ISO; floats refused."""
    if isinstance(value, dict):
        return {str(key): _plain(item, f"{field}.{key}" if field else str(key)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item, f"{field}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, float):
        raise DocumentError("amounts and quantities must be decimal strings, not floats", field=field)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def write_json(documents: Iterable[dict], stream: TextIO) -> int:
    """Write one JSON document per invoice per line (JSON Lines, UTF-8); returns the number written."""
    count = 0
    for document in documents:
        check_document(document)
        stream.write(json.dumps(_plain(document), ensure_ascii=False, separators=(",", ":")))
        stream.write("\n")
        count += 1
    return count
