"""Sample invoice documents: the worked example of docs/billing.md (also a template preview) and
generated ones for the PDF benchmark. Neither touches the database."""

from __future__ import annotations

import copy
from decimal import Decimal

from telora.core.money import round_half_up

_EXAMPLE = {
    "brand": {"code": "NORD", "name": "Nordmobil", "language": "en",
              "colours": {"primary": "#0b7a75", "secondary": "#1e293b"},
              "payment": {"terms_days": 14, "iban": "DK5000400440116243"}},
    "invoice": {"number": "INV-2026-000123", "kind": "invoice", "draft": False,
                "issue_date": "2026-11-01", "due_date": "2026-11-15",
                "period": {"start": "2026-10-01", "end": "2026-11-01"},
                "currency": "EUR", "net": "212.94", "tax": "50.74", "total": "263.68"},
    "customer": {"number": "C-1001", "name": "Jane Jensen"},
    "account": {"number": "A-1001-1", "name": "Jane Jensen"},
    "address": {"name": "Jane Jensen", "lines": ["Strandvejen 12", "2100 København Ø"], "country": "DK"},
    "sections": [
        {"subscription": {"id": 501, "identifier": "+45 20 00 00 01", "plan": "Mobile 10 GB"}, "address": None,
         "lines": [
             {"kind": "recurring", "description": "Mobile 10 GB", "period_start": "2026-11-01",
              "period_end": "2026-12-01", "quantity": "1", "unit_price": "99.00", "amount": "99.00", "tax_code": "VAT"},
             {"kind": "proration", "description": "Mobile 10 GB, 12 of 31 days", "period_start": "2026-10-20",
              "period_end": "2026-11-01", "quantity": "12", "unit_price": "3.193548", "amount": "38.32",
              "tax_code": "VAT"},
             {"kind": "usage", "description": "Voice, Denmark", "period_start": "2026-10-20",
              "period_end": "2026-11-01", "quantity": "870", "unit_price": "", "amount": "4.35", "tax_code": "VAT"},
             {"kind": "usage", "description": "Data, EU roaming", "period_start": "2026-10-20",
              "period_end": "2026-11-01", "quantity": "21495808", "unit_price": "", "amount": "2.05",
              "tax_code": "VAT"},
         ],
         "usage": [
             {"service": "voice", "zone": "DK", "count": "3", "quantity": "870", "unit": "s", "amount": "4.35"},
             {"service": "data", "zone": "EU_ROAM", "count": "5", "quantity": "21495808", "unit": "B",
              "amount": "2.05"},
         ],
         "total": "143.72"},
        {"subscription": {"id": 502, "identifier": "+45 20 00 00 02", "plan": "Mobile Basic"},
         "address": {"name": "Anna Jensen", "lines": ["Skolegade 3", "8000 Aarhus C"], "country": "DK"},
         "lines": [
             {"kind": "recurring", "description": "Mobile Basic", "period_start": "2026-11-01",
              "period_end": "2026-12-01", "quantity": "1", "unit_price": "49.00", "amount": "49.00", "tax_code": "VAT"},
             {"kind": "discount", "description": "Student discount 20 %", "period_start": "2026-11-01",
              "period_end": "2026-12-01", "quantity": "1", "unit_price": "-9.80", "amount": "-9.80", "tax_code": "VAT"},
             {"kind": "one_time", "description": "SIM card", "period_start": None, "period_end": None,
              "quantity": "1", "unit_price": "25.00", "amount": "25.00", "tax_code": "VAT"},
             {"kind": "one_time", "description": "Charity SMS donation", "period_start": None, "period_end": None,
              "quantity": "2", "unit_price": "5.00", "amount": "10.00", "tax_code": "EXEMPT"},
         ],
         "usage": [],
         "total": "74.20"},
        {"subscription": None, "address": None,
         "lines": [
             {"kind": "adjustment", "description": "Goodwill credit: late delivery", "period_start": None,
              "period_end": None, "quantity": "1", "unit_price": "-4.98", "amount": "-4.98", "tax_code": "VAT"},
         ],
         "usage": [],
         "total": "-4.98"},
    ],
    "taxes": [
        {"code": "VAT", "rate": "25", "net": "202.94", "tax": "50.74"},
        {"code": "EXEMPT", "rate": "0", "net": "10.00", "tax": "0.00"},
    ],
}


def example_document() -> dict:
    """The worked example of docs/billing.md ("## Outputs"): a fresh copy each call."""
    return copy.deepcopy(_EXAMPLE)


def generated_document(index: int, subscriptions: int = 2, *, lines_per_subscription: int = 4) -> dict:
    """A consistent invoice for the benchmark: `subscriptions` sections of recurring and usage lines."""
    document = example_document()
    document["invoice"]["number"] = f"INV-2026-{index + 1:06d}"
    document["customer"] = {"number": f"C-{index + 1}", "name": f"Customer {index + 1}"}
    document["account"] = {"number": f"A-{index + 1}-1", "name": f"Customer {index + 1}"}
    document["address"]["name"] = f"Customer {index + 1}"
    sections = []
    net = Decimal(0)
    for s in range(subscriptions):
        lines = []
        for n in range(lines_per_subscription):
            amount = Decimal(49 + (index * 7 + s * 3 + n * 11) % 50) + Decimal((index + n) % 100) / 100
            kind = "recurring" if n == 0 else "usage"
            lines.append({"kind": kind, "description": f"{'Plan fee' if n == 0 else 'Usage'} {n + 1}",
                          "period_start": "2026-10-01", "period_end": "2026-11-01", "quantity": "1",
                          "unit_price": f"{amount:.2f}", "amount": f"{amount:.2f}", "tax_code": "VAT"})
        total = sum(Decimal(line["amount"]) for line in lines)
        net += total
        sections.append({
            "subscription": {"id": index * 10 + s, "identifier": f"+45 2{index % 10} {s:02d} {index % 100:02d} 00",
                             "plan": "Mobile 10 GB"},
            "address": None, "lines": lines,
            "usage": [{"service": "voice", "zone": "DK", "count": "12", "quantity": "1834", "unit": "s",
                       "amount": lines[1]["amount"] if len(lines) > 1 else "0.00"}],
            "total": f"{total:.2f}"})
    tax = round_half_up(net * 25 / 100, 2)
    document["sections"] = sections
    document["taxes"] = [{"code": "VAT", "rate": "25", "net": f"{net:.2f}", "tax": f"{tax:.2f}"}]
    document["invoice"].update(net=f"{net:.2f}", tax=f"{tax:.2f}", total=f"{net + tax:.2f}")
    return document
