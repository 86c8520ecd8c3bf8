"""The invoice document (Invoice.document): the contract the PDF and flat-file outputs read.
Amounts are strings with exactly the currency's minor-unit decimals."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from telora.billing import engine


def money(value: Decimal | None, places: int) -> str | None:
    return None if value is None else str(engine.round_minor(value, places))


def plain(value: Decimal) -> str:
    """A decimal without trailing zeros or an exponent: 25, 0.5, 30."""
    return f"{value.normalize():f}"


_PLAIN: dict[Decimal, str] = {}


def _plain(value: Decimal) -> str:
    """plain(), remembered for the few quantities most lines have (1, days of a period); a zero is
    not remembered (-0 equals 0 but prints apart)."""
    text = _PLAIN.get(value)
    if text is None:
        text = plain(value)
        if value and len(_PLAIN) < 1000:
            _PLAIN[value] = text
    return text


def _day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def address_block(address, name: str) -> dict | None:
    if address is None:
        return None
    lines = [address.street1, address.street2, f"{address.postcode} {address.city}".strip(), address.state]
    return {"name": name, "lines": [line for line in lines if line], "country": address.country}


def build(*, brand, settings, account, draft: engine.Draft, subs: dict, places: int, number: str | None,
          issue_date: dt.date, due_date: dt.date) -> dict:
    customer = account.customer
    quantum = Decimal(1).scaleb(-places)  # money(), inline: a bill has many amounts

    def _money(value: Decimal | None) -> str | None:
        return None if value is None else str(value.quantize(quantum, rounding=ROUND_HALF_UP))

    sections = []
    for section in draft.sections:
        sub = subs.get(section.subscription_id)
        own = sub.billing_address if sub is not None and sub.billing_address_id != account.billing_address_id else None
        sections.append({
            "subscription": None if sub is None else {"id": sub.pk, "identifier": sub.identifier,
                                                      "plan": section.plan},
            "address": address_block(own, account.name),
            "lines": [{"kind": line.kind, "description": line.description,
                       "period_start": None if line.period_start is None else line.period_start.isoformat(),
                       "period_end": None if line.period_end is None else line.period_end.isoformat(),
                       "quantity": _plain(line.quantity),
                       "unit_price": _money(line.unit_price), "amount": _money(line.amount),
                       "tax_code": line.tax_code} for line in section.lines],
            "usage": [{**u, "amount": _money(u["amount"])} for u in section.usage],
            "total": _money(section.total),
        })
    return {
        "brand": {"code": brand.code, "name": brand.name, "language": brand.language,
                  "colours": {"primary": brand.primary_colour, "secondary": brand.secondary_colour},
                  "payment": {"terms_days": settings.payment_terms_days, "iban": settings.iban}},
        "invoice": {"number": number, "kind": "credit_note" if draft.credit_note else "invoice",
                    "draft": number is None, "issue_date": issue_date.isoformat(), "due_date": due_date.isoformat(),
                    "period": {"start": draft.period[0].isoformat(), "end": draft.period[1].isoformat()},
                    "currency": draft.currency, "net": money(draft.net, places), "tax": money(draft.tax, places),
                    "total": money(draft.total, places)},
        "customer": {"number": customer.number, "name": customer.name, "language": customer.language},
        "account": {"number": account.number, "name": account.name},
        "address": address_block(account.billing_address, account.name) or {"name": account.name, "lines": [],
                                                                             "country": ""},
        "sections": sections,
        "taxes": [{"code": t["code"], "rate": plain(t["rate"]), "net": money(t["net"], places),
                   "tax": money(t["tax"], places)} for t in draft.taxes],
    }
