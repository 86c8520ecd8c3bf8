"""What a letter's template sees (engine.VARIABLES), built from a customer and an event, and the
brand's sample data for previews. Every value is plain (strings, lists), so the render needs nothing
from the database."""

from __future__ import annotations

import datetime as dt

from telora.core import clock
from telora.customers.models import Address, BillingAccount, Customer, Subscription
from telora.letters.engine import Payload


def _text(value) -> str:
    return "" if value is None else str(value)


def address_lines(customer: Customer, address: Address | None) -> list[str]:
    lines = [customer.name] if customer.name else []
    if address is not None:
        lines += [address.street1, address.street2, f"{address.postcode} {address.city}".strip(), address.state,
                  address.country if address.country != customer.brand.country else ""]
    return [line for line in lines if line]


def postal_address(customer: Customer) -> Address | None:
    return pick_postal_address(list(Address.objects.filter(customer=customer).order_by("id")))


def pick_postal_address(addresses: list[Address]) -> Address | None:
    """Of a customer's addresses (by id): the billing one, else the legal one, else the first."""
    for role in ("billing", "legal"):
        for address in addresses:
            if role in address.roles:
                return address
    return addresses[0] if addresses else None


def customer_context(customer: Customer, *, subscription: Subscription | None = None,
                     account: BillingAccount | None = None, event=None, invoice=None,
                     at: dt.datetime | None = None, postal: Address | None | str = "read") -> dict:
    """`postal`: the customer's postal address when the caller has read it (None: none), else read here."""
    brand = customer.brand
    account = account or BillingAccount.objects.filter(customer=customer).order_by("id").first()
    postal = postal_address(customer) if postal == "read" else postal
    payload = Payload(getattr(event, "payload", None) or {})
    context = {
        "brand": {"name": brand.name, "code": brand.code, "language": brand.language},
        "customer": {"number": customer.number, "name": customer.name, "first_name": customer.first_name,
                     "last_name": customer.last_name, "company_name": customer.company_name,
                     "email": customer.email, "phone": customer.phone and f"+{customer.phone}",
                     "language": customer.language or brand.language},
        "address": {"name": customer.name, "lines": address_lines(customer, postal)},
        "account": {"number": account.number if account else "", "name": account.name if account else ""},
        "subscription": {"identifier": subscription.identifier if subscription else "",
                         "service_type": subscription.service_type if subscription else "",
                         "plan": _text(payload.get("plan"))},
        "invoice": {"number": "", "total": "", "currency": brand.currency, "issue_date": "", "due_date": "",
                    "period_start": "", "period_end": ""},
        "balance": {"amount": _text(payload.get("balance", payload.get("amount"))),
                    "threshold": _text(payload.get("threshold")),
                    "currency": _text(payload.get("currency") or brand.currency)},
        "event": {"type": getattr(event, "type", ""), "at": _text(getattr(event, "at", "") or ""), "payload": payload},
        "today": (at or clock.now()).date().isoformat(),
    }
    if invoice is not None:
        context["invoice"] = {"number": invoice.number or "", "total": _text(invoice.total),
                              "currency": invoice.currency, "issue_date": _text(invoice.issue_date),
                              "due_date": _text(invoice.due_date), "period_start": _text(invoice.period_start),
                              "period_end": _text(invoice.period_end)}
    return context


def sample_contexts(brand, language: str | None = None) -> list[dict]:
    """Two made-up customers (a person and a company, one with every field empty that may be) so a
    template's branches are tried before it is kept."""
    language = language or brand.language
    base = {
        "brand": {"name": brand.name, "code": brand.code, "language": brand.language},
        "customer": {"number": "C0000042", "name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace",
                     "company_name": "", "email": "ada@example.com", "phone": "+31612345678",
                     "language": language},
        "address": {"name": "Ada Lovelace", "lines": ["Ada Lovelace", "Prinsengracht 263", "1016 GV Amsterdam"]},
        "account": {"number": "A0000042", "name": "Ada Lovelace"},
        "subscription": {"identifier": "31612345678", "service_type": "mobile_prepaid", "plan": "MOB_PRE_BASIC"},
        "invoice": {"number": "INV-2026-000042", "total": "24.20", "currency": brand.currency,
                    "issue_date": "2026-11-01", "due_date": "2026-11-15", "period_start": "2026-10-01",
                    "period_end": "2026-11-01"},
        "balance": {"amount": "1.50", "threshold": "2.00", "currency": brand.currency},
        "event": {"type": "balance.low", "at": "2026-11-03T10:00:00+00:00",
                  "payload": Payload(customer_id=42, subscription_id=7, balance="1.50", threshold="2.00")},
        "today": "2026-11-03",
    }
    company = {**base, "customer": {**base["customer"], "name": "Babbage Engines Ltd", "first_name": "",
                                    "last_name": "", "company_name": "Babbage Engines Ltd", "email": "", "phone": ""},
               "address": {"name": "Babbage Engines Ltd", "lines": ["Babbage Engines Ltd", "1 Dorset Street",
                                                                     "London W1U 4EG", "United Kingdom"]},
               "event": {"type": "invoice.issued", "at": "2026-11-01T06:00:00+00:00", "payload": Payload()}}
    return [base, company]
