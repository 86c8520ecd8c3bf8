"""Shared by the privacy tests (imported by name: a test module cannot import `conftest` safely)."""

import datetime as dt
from decimal import Decimal

from telora.catalog.models import BillCycle
from telora.core import clock
from telora.customers import services as s


def terminate_all(customer, system):
    from telora.customers.services import terminate_subscription

    for line in customer.subscriptions.exclude(status="terminated"):
        terminate_subscription(line, actor=system, at=clock.now())


def usage(subscription, when, b_number, record_id, charge="0.50"):
    from telora.rating.models import RatedUsage
    from telora.rating.services.storage import ensure_partitions

    ensure_partitions([when])
    return RatedUsage.objects.create(
        brand=subscription.brand, source="test", record_id=record_id, subscription=subscription, service="voice",
        a_number=subscription.identifier, b_number=b_number, start_time=when, usage=60, quantity=60, zone="NL",
        discount=Decimal(0), charge=Decimal(charge), currency="EUR", file_id=0, batch_id=0)


def make_customer(brand, system, *, first, last, email, phone, street, number=None):
    """A customer with an address, a contact, an account and (with `number`) an active line."""
    customer = s.create_customer(brand, actor=system, at=clock.now(), kind="private", first_name=first,
                                 last_name=last, email=email, phone=phone, id_type="passport",
                                 id_number=f"NP{abs(hash(last)) % 10**7:07d}", birth_date=dt.date(1980, 5, 17),
                                 notes=f"{first} prefers calls after six")
    s.add_address(customer, actor=system, at=clock.now(), street1=street, postcode="1011 AB", city="Amsterdam",
                  roles=["legal", "billing", "installation"])
    s.add_contact(customer, actor=system, at=clock.now(), first_name=f"{first}-partner", last_name=last,
                  email=f"partner.{email}", phone="")
    cycle = BillCycle.objects.filter(brand=brand).order_by("code").first()
    s.create_billing_account(customer, actor=system, at=clock.now(), bill_cycle=cycle,
                             invoice_email=f"invoices.{email}")
    if number:
        s.create_subscription(customer, actor=system, at=clock.now(), billing_account=customer.accounts.get(),
                              service_type="mobile_postpaid", plan="MOB_POST_BASIC")
    return customer
