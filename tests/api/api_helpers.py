"""A seeded brand for whole-API tests (the fuzz run, the malformed-input cases): the customers demo
catalogue, stock, a customer with a billing account, a postpaid and a prepaid line, an adjustment,
a usage batch and an uploaded customer file, all through the services. `seed()` returns the ids
the tests aim at."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from stdnum import luhn

from telora.catalog.services.apply import apply_catalog
from telora.catalog.yamlio import load
from telora.core import clock
from telora.core.demo import platform_roles
from telora.core.services.users import create_api_key, create_role, create_user
from telora.customers import services as s
from telora.customers.demo import CATALOG
from telora.inventory.services import create_number, create_sim

DAY0 = dt.date(2024, 1, 1)


def _iccid(n: int) -> str:
    body = f"8931440400{n:08d}"
    return body + luhn.calc_check_digit(body)


def seed(brand, actor) -> dict:
    """The brand filled with one of everything, and an API key of a user holding every brand-level
    right in it: {"token", "customer", "account", "postpaid", "prepaid", "sim", "number", ...}."""
    from telora.billing.services import create_adjustment
    from telora.rating.engine import UsageRecord
    from telora.rating.services import import_usage_records
    from telora.rating.services.balances import top_up

    at = clock.now()
    data = load(CATALOG.read_text())
    data["brand"] = {"code": brand.code, "name": brand.name, "currency": brand.currency, "timezone": brand.timezone,
                     "country": brand.country, "language": brand.language}
    apply_catalog(data, actor=actor, at=at, effective_from=DAY0)
    for n in range(4):
        create_number(brand, f"+31 6 1000000{n}", actor=actor, at=at)
        create_sim(brand, actor=actor, at=at, iccid=_iccid(n), imsi=f"20408{n:010d}", sim_type="usim-4g")
    perms = platform_roles()["Brand administrator"]
    role = create_role(actor=actor, at=at, name="fuzz-all", permissions=perms, brand=brand)
    user = create_user(actor=actor, at=at, username="fuzzer", password="correct-horse-battery-9",
                       grants=[(brand, role)], email="fuzzer@example.test")
    _key, token = create_api_key(actor=actor, at=at, user=user, name="fuzz", brands=[brand], permissions=perms)

    customer = s.create_customer(brand, actor=actor, at=at, kind="private", first_name="Ann", last_name="de Vries",
                                 email="ann@example.com", phone="06 1234 5678")
    address = s.add_address(customer, actor=actor, at=at, street1="Kerkstraat 1", postcode="1011 AB",
                            city="Amsterdam", roles=["legal", "billing", "installation"])
    contact = customer.contacts.order_by("id").first()
    account = s.create_billing_account(customer, actor=actor, at=at)
    postpaid = s.create_subscription(customer, actor=actor, at=at, billing_account=account,
                                     service_type="mobile_postpaid", plan="MOB_POST_BASIC", sim_type="usim-4g")
    prepaid = s.create_subscription(customer, actor=actor, at=at, billing_account=account,
                                    service_type="mobile_prepaid", plan="MOB_PRE", sim_type="usim-4g")
    entry = top_up(prepaid, Decimal("10.00"), actor=actor, at=at, reference="seed")
    adjustment = create_adjustment(account, Decimal("-5.00"), reason="seed credit", actor=actor, at=at)
    record = UsageRecord(record_id="seed-1", service="voice", a_number=postpaid.identifier, b_number="31201234567",
                         start_time=at - dt.timedelta(hours=1), duration=60)
    usage_file = import_usage_records(brand, [record], source="seed", actor=actor, at=at, name="seed batch")
    upload = s.upload_customer_file(customer, SimpleUploadedFile("note.txt", b"hello\n", "text/plain"),
                                    actor=actor, at=at)
    return {"token": token, "user": user, "customer": customer.pk, "account": account.pk,
            "account_number": account.number, "address": address.pk, "contact": getattr(contact, "pk", None),
            "postpaid": postpaid.pk, "prepaid": prepaid.pk, "topup": entry.pk, "adjustment": adjustment.pk,
            "usage_file": usage_file.pk, "file": upload.pk, "sim": postpaid.sim_id, "number": postpaid.phone_number_id}
