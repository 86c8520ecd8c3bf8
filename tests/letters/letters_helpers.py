"""Shared by the letters tests (imported by name: a test module cannot import `conftest` safely)."""

from __future__ import annotations

import datetime as dt
import email
import socket
from dataclasses import dataclass, field
from email import policy

from telora.catalog.models import BillCycle
from telora.core import clock
from telora.customers import services as s


@dataclass
class Event:
    """A plain event shaped like the contract's (what telora.events hands a consumer)."""

    id: int
    type: str
    brand_id: int
    subject_type: str = ""
    subject_id: str = ""
    payload: dict = field(default_factory=dict)
    at: dt.datetime = field(default_factory=clock.now)


def make_customer(brand, system, *, first, last, email="", phone="", street="Prinsengracht 263", line=False,
                  language=None, delivery="email"):
    """A customer with a billing address, an account (invoice delivery by `delivery`) and optionally a line."""
    customer = s.create_customer(brand, actor=system, at=clock.now(), kind="private", first_name=first,
                                 last_name=last, email=email, phone=phone, id_type="passport",
                                 id_number=f"NP{abs(hash(last)) % 10**7:07d}", birth_date=dt.date(1980, 5, 17),
                                 **({"language": language} if language else {}))
    s.add_address(customer, actor=system, at=clock.now(), street1=street, postcode="1011 AB", city="Amsterdam",
                  roles=["legal", "billing"])
    cycle = BillCycle.objects.filter(brand=brand).order_by("code").first()
    s.create_billing_account(customer, actor=system, at=clock.now(), bill_cycle=cycle,
                             invoice_email=f"invoices.{email}" if email else "", invoice_delivery=delivery if email else "print")
    if line:
        s.create_subscription(customer, actor=system, at=clock.now(), billing_account=customer.accounts.get(),
                              service_type="mobile_postpaid", plan="MOB_POST_BASIC")
    return customer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """aiosmtpd handler keeping every message it accepts; `refuse` holds addresses answered 550."""

    def __init__(self):
        self.messages: list = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"
