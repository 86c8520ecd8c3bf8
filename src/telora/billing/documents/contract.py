"""The invoice document: the plain dict an invoice is printed and exported from.

The billing run stores it on the invoice; the renderers here read nothing else (no database), so a
PDF or a flat file can be made again from the stored document at any time. Amounts are strings with
exactly the currency's minor-unit decimals; `check_document` refuses floats, missing parts and
amounts that do not add up (lines per tax code to the tax table, tax rounded half-up, total = net +
tax), so a wrong invoice is never printed.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from telora.core.money import is_currency, minor_unit, round_half_up

LINE_KINDS = ("recurring", "proration", "credit", "discount", "one_time", "adjustment", "usage")
INVOICE_KINDS = ("invoice", "credit_note")


class DocumentError(ValueError):
    """The document breaks the contract; `field` names the part (e.g. `sections[0].lines[1].amount`)."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


def decimal(value, field: str) -> Decimal:
    """An exact Decimal from a document value (a string, int or Decimal); floats are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise DocumentError("amounts and quantities must be decimal strings, not floats", field=field)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise DocumentError(f"not a decimal number: {value!r}", field=field) from None
    else:
        raise DocumentError(f"expected a decimal string, got {type(value).__name__}", field=field)
    if not number.is_finite():
        raise DocumentError("must be a finite number", field=field)
    return number


def money(value, places: int, field: str) -> Decimal:
    """An amount with exactly the currency's minor-unit decimals ("12.50" for EUR, "1250" for JPY)."""
    number = decimal(value, field)
    if number.as_tuple().exponent != -places:
        raise DocumentError(f"amounts have exactly {places} decimals in this currency, got {value!r}", field=field)
    return number


def _need(mapping, key: str, field: str):
    if not isinstance(mapping, dict):
        raise DocumentError("must be an object", field=field)
    if key not in mapping:
        raise DocumentError("is missing", field=f"{field}.{key}" if field else key)
    return mapping[key]


def check_document(document: dict) -> None:
    """Raise DocumentError unless the document keeps the contract (see docs/billing.md, Outputs)."""
    for key in ("brand", "invoice", "customer", "account", "address", "sections", "taxes"):
        _need(document, key, "")
    invoice = document["invoice"]
    currency = _need(invoice, "currency", "invoice")
    if not isinstance(currency, str) or not is_currency(currency):
        raise DocumentError(f"unknown currency {currency!r}", field="invoice.currency")
    places = minor_unit(currency)
    kind = _need(invoice, "kind", "invoice")
    if kind not in INVOICE_KINDS:
        raise DocumentError(f"must be one of {', '.join(INVOICE_KINDS)}", field="invoice.kind")
    draft = _need(invoice, "draft", "invoice")
    if not isinstance(draft, bool):
        raise DocumentError("must be true or false", field="invoice.draft")
    if not draft and not _need(invoice, "number", "invoice"):
        raise DocumentError("a final invoice has a number", field="invoice.number")
    for key in ("issue_date", "due_date", "period"):
        _need(invoice, key, "invoice")
    net, tax, total = (money(_need(invoice, key, "invoice"), places, f"invoice.{key}") for key in ("net", "tax", "total"))
    if total != net + tax:
        raise DocumentError(f"total {total} is not net {net} + tax {tax}", field="invoice.total")
    if (kind == "credit_note") != (total < 0):
        raise DocumentError("a credit note is an invoice with a negative total, and only that", field="invoice.kind")

    sections = document["sections"]
    if not isinstance(sections, list):
        raise DocumentError("must be a list", field="sections")
    net_by_code: dict[str, Decimal] = {}
    for s, section in enumerate(sections):
        where = f"sections[{s}]"
        lines = _need(section, "lines", where)
        section_sum = Decimal(0)
        for n, line in enumerate(lines):
            at = f"{where}.lines[{n}]"
            if _need(line, "kind", at) not in LINE_KINDS:
                raise DocumentError(f"must be one of {', '.join(LINE_KINDS)}", field=f"{at}.kind")
            amount = money(_need(line, "amount", at), places, f"{at}.amount")
            for key in ("quantity", "unit_price"):
                if line.get(key) not in (None, ""):
                    decimal(line[key], f"{at}.{key}")
            code = _need(line, "tax_code", at)
            net_by_code[code] = net_by_code.get(code, Decimal(0)) + amount
            section_sum += amount
        for n, usage in enumerate(section.get("usage") or ()):
            at = f"{where}.usage[{n}]"
            money(_need(usage, "amount", at), places, f"{at}.amount")
            decimal(_need(usage, "quantity", at), f"{at}.quantity")
        section_total = money(_need(section, "total", where), places, f"{where}.total")
        if section_total != section_sum:
            raise DocumentError(f"total {section_total} is not the sum of its lines {section_sum}", field=f"{where}.total")

    taxes = document["taxes"]
    tax_sum = net_sum = Decimal(0)
    seen = set()
    for t, row in enumerate(taxes):
        at = f"taxes[{t}]"
        code = _need(row, "code", at)
        rate = decimal(_need(row, "rate", at), f"{at}.rate")
        row_net = money(_need(row, "net", at), places, f"{at}.net")
        row_tax = money(_need(row, "tax", at), places, f"{at}.tax")
        if row_net != net_by_code.get(code, Decimal(0)):
            raise DocumentError(f"net {row_net} is not the sum of the {code} lines {net_by_code.get(code, 0)}",
                                field=f"{at}.net")
        expected = round_half_up(row_net * rate / 100, places)
        if row_tax != expected:
            raise DocumentError(f"tax {row_tax} is not {rate} % of {row_net} rounded half-up ({expected})",
                                field=f"{at}.tax")
        seen.add(code)
        tax_sum += row_tax
        net_sum += row_net
    missing = sorted(set(net_by_code) - seen)
    if missing:
        raise DocumentError(f"no tax row for the lines with tax code {', '.join(map(str, missing))}", field="taxes")
    if net_sum != net:
        raise DocumentError(f"net {net} is not the sum of the tax table's net {net_sum}", field="invoice.net")
    if tax_sum != tax:
        raise DocumentError(f"tax {tax} is not the sum of the tax table's tax {tax_sum}", field="invoice.tax")


def file_name(document: dict) -> str:
    """The PDF's file name: the invoice number, or `draft-<account>-<period start>` for a draft."""
    invoice = document["invoice"]
    if invoice.get("number"):
        stem = str(invoice["number"])
    else:
        stem = f"draft-{document['account']['number']}-{invoice['period']['start']}"
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem) + ".pdf"
