"""A shop for order and provisioning tests: a brand with the demo catalogue (from 2024-01-01), its
numbers and SIM cards, and a customer with her addresses and billing account."""

import datetime as dt

from stdnum import luhn

from telora.catalog.services.apply import apply_catalog
from telora.catalog.yamlio import load
from telora.core import clock
from telora.customers import services as s
from telora.customers.demo import CATALOG
from telora.inventory.services import create_number, create_sim


def iccid(n: int, prefix: str) -> str:
    body = f"{prefix}{n:08d}"
    return body + luhn.calc_check_digit(body)


def make_shop(brand, actor, numbers, prefix, offset):
    data = load(CATALOG.read_text())
    data["brand"] = {"code": brand.code, "name": brand.name, "currency": brand.currency, "timezone": brand.timezone,
                     "country": brand.country, "language": brand.language}
    apply_catalog(data, actor=actor, at=clock.now(), effective_from=dt.date(2024, 1, 1))
    for number in numbers:
        create_number(brand, number, actor=actor, at=clock.now())
    for n in range(offset, offset + len(numbers)):
        create_sim(brand, actor=actor, at=clock.now(), iccid=iccid(n, prefix), imsi=f"20408{n:010d}",
                   sim_type="usim-4g")
    return brand


def make_customer(brand, actor, first):
    customer = s.create_customer(brand, actor=actor, at=clock.now(), kind="private", first_name=first,
                                 last_name="Tester", email=f"{first}@example.com", phone="")
    s.add_address(customer, actor=actor, at=clock.now(), street1="Kerkstraat 1", postcode="1011 AB",
                  city="Amsterdam", roles=["legal", "billing", "installation"])
    s.create_billing_account(customer, actor=actor, at=clock.now())
    return customer
