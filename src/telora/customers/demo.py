"""Demo customers for the demo brands: a catalogue, SIMs and numbers, and a few hundred customers.

Appended to `telora.core.demo.DEMO_LOADERS`. Loading twice changes nothing: the catalogue is
applied only to a brand without products, stock is imported only when the brand has none, and
customers are added until the brand has `CUSTOMERS_PER_BRAND`. Everything goes through the
services (so the demo is audited like real work), spread over the past year.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from django.db import transaction

from telora.catalog.models import Product
from telora.catalog.services.apply import apply_catalog
from telora.catalog.yamlio import load
from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor
from telora.customers import services as s
from telora.customers.models import Customer
from telora.inventory.models import PhoneNumber, SimCard
from telora.inventory.services import import_numbers, import_sims

CUSTOMERS_PER_BRAND = 250
STOCK = 600
CATALOG = Path(__file__).parent / "demo_data" / "catalog.yaml"
# Per brand: numbers (E.164 digits), ICCID prefix (10 digits), IMSI prefix (5 digits), cities, streets.
PLACES = {
    "nordlink": dict(numbers=31620000000, iccid="8931440499", imsi="20408", phone_prefix="3163",
                     cities=[("Amsterdam", "1011"), ("Utrecht", "3511"), ("Rotterdam", "3011"), ("Groningen", "9711")],
                     streets=["Kerkstraat", "Dorpsstraat", "Stationsweg", "Molenweg", "Schoolstraat"]),
    "bluewave": dict(numbers=447400000000, iccid="8944100099", imsi="23410", phone_prefix="44791",
                     cities=[("London", "SW1A"), ("Leeds", "LS1"), ("Bristol", "BS1"), ("Glasgow", "G1")],
                     streets=["High Street", "Station Road", "Church Lane", "Mill Road", "Victoria Road"]),
}
FIRST = ["Anna", "Bram", "Chloé", "Daan", "Emma", "Finn", "Grace", "Hugo", "Isla", "Jan", "Kim", "Lars", "Mia",
         "Noah", "Olivia", "Pieter", "Quinn", "Ruby", "Sem", "Tess", "Umar", "Vera", "Wim", "Yara", "Zoë"]
LAST = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "de Boer", "Smith", "Jones",
        "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Müller", "García"]
COMPANIES = ["Acme", "Northwind", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Hooli"]


def _catalogue(brand: Brand, actor: Actor, start: dt.date) -> None:
    if Product.objects.filter(brand=brand).exists():
        return
    data = load(CATALOG.read_text())
    data["brand"] = {"code": brand.code, "name": brand.name, "currency": brand.currency,
                     "timezone": brand.timezone, "country": brand.country, "language": brand.language}
    apply_catalog(data, actor=actor, at=clock.now(), effective_from=start, source="customers demo")


def _stock(brand: Brand, actor: Actor, place: dict) -> None:
    from stdnum import luhn

    if not PhoneNumber.objects.filter(brand=brand).exists():
        rows = "\n".join(f"{place['numbers'] + n}" for n in range(STOCK))
        import_numbers(brand, f"number\n{rows}\n".encode(), actor=actor, at=clock.now(), file_name="demo-numbers.csv")
    if not SimCard.objects.filter(brand=brand).exists():
        lines = ["iccid,imsi,pin1,puk1,sim_type,partner,batch"]
        for n in range(STOCK):
            body = f"{place['iccid']}{n:08d}"
            lines.append(f"{body}{luhn.calc_check_digit(body)},{place['imsi']}{n:010d},{1000 + n % 9000},"
                         f"{n:08d},{'esim' if n % 5 == 0 else 'usim-4g'},Demo Wholesale,DEMO-1")
        import_sims(brand, ("\n".join(lines) + "\n").encode(), actor=actor, at=clock.now(), file_name="demo-sims.csv")


def _customer(brand: Brand, actor: Actor, rng: random.Random, place: dict, n: int, at: dt.datetime) -> None:
    business = n % 7 == 3
    city, postcode = rng.choice(place["cities"])
    first, last = rng.choice(FIRST), rng.choice(LAST)
    values = dict(email=f"{first.lower()}.{last.lower().replace(' ', '')}.{n}@example.com".encode("ascii", "ignore")
                  .decode(), phone=f"+{place['phone_prefix']}{n:07d}", notes="Demo customer.")
    if business:
        customer = s.create_customer(brand, actor=actor, at=at, kind="business",
                                     company_name=f"{rng.choice(COMPANIES)} {last} {'BV' if brand.country == 'NL' else 'Ltd'}",
                                     customer_group="SME", **values)
    else:
        customer = s.create_customer(brand, actor=actor, at=at, kind="private", first_name=first, last_name=last,
                                     id_type="id_card", id_number=f"ID{n:07d}",
                                     birth_date=dt.date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
                                     customer_group="STUDENT" if n % 11 == 0 else None, **values)
    address = s.add_address(customer, actor=actor, at=at, street1=f"{rng.choice(place['streets'])} {1 + n % 120}",
                            postcode=f"{postcode} {n % 9}AB" if brand.country == "NL" else f"{postcode} {n % 9}AA",
                            city=city, roles=["legal", "billing", "shipping", "installation"])
    if business:
        s.add_contact(customer, actor=actor, at=at, first_name=first, last_name=last, role="billing",
                      email=f"billing.{n}@example.com")
    account = s.create_billing_account(customer, actor=actor, at=at, billing_group="BUSINESS" if business else "CONSUMER",
                                       invoice_delivery="print" if n % 9 == 0 else "email",
                                       payment_method="direct_debit" if n % 2 else "invoice",
                                       payment_method_ref=f"MANDATE-{brand.code.upper()}-{n:06d}" if n % 2 else "",
                                       credit_limit="500.00" if business else "100.00", billing_address=address)
    later = at + dt.timedelta(days=rng.randint(1, 60))
    lines = 1 + (n % 4 == 0) + 2 * business
    for line in range(lines):
        kind = n % 10
        if kind == 5 and line == 0:
            s.create_subscription(customer, actor=actor, at=at, billing_account=account, service_type="fiber",
                                  plan="FIBER_500", identifier=f"FIB-{brand.code.upper()}-{n:06d}",
                                  installation_address=address)
            continue
        if kind == 8 and line == 0:
            s.create_subscription(customer, actor=actor, at=at, billing_account=account, service_type="voip",
                                  plan="VOIP_LINE")
            continue
        prepaid = kind == 2
        plan = "MOB_PRE" if prepaid else ("MOB_POST_10GB" if (n + line) % 2 else "MOB_POST_BASIC")
        sub = s.create_subscription(customer, actor=actor, at=at, billing_account=account,
                                    service_type="mobile_prepaid" if prepaid else "mobile_postpaid", plan=plan,
                                    addons=["ROAM_EU_5GB"] if not prepaid and n % 3 == 0 else [],
                                    sim_type="esim" if n % 6 == 0 else "usim-4g", shipping_address=address)
        if later >= clock.now():
            continue
        if not prepaid and n % 5 == 1:
            s.change_plan(sub, "MOB_POST_10GB" if plan == "MOB_POST_BASIC" else "MOB_POST_BASIC", actor=actor, at=later)
        elif n % 13 == 0:
            s.suspend_subscription(sub, actor=actor, at=later, reason="unpaid invoice")
        elif n % 17 == 0:
            s.terminate_subscription(sub, actor=actor, at=later, reason="moved abroad")


def load_customers_demo(actor: Actor) -> None:
    """Per demo brand that exists: catalogue, stock, then customers up to CUSTOMERS_PER_BRAND."""
    now = clock.now()
    for code, place in PLACES.items():
        brand = Brand.objects.filter(code=code).first()
        if brand is None:
            continue
        start = clock.today(brand) - dt.timedelta(days=400)
        with transaction.atomic():
            _catalogue(brand, actor, start)
            _stock(brand, actor, place)
        first_day = Product.objects.filter(brand=brand, code="MOB_POST_BASIC").values_list("valid_from", flat=True)
        earliest = max([now - dt.timedelta(days=365)] + [
            dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=1) for day in first_day])
        span = max((now - earliest).total_seconds() - 90 * 86400, 3600)
        have = Customer.objects.filter(brand=brand).count()
        for n in range(have, CUSTOMERS_PER_BRAND):
            rng = random.Random(f"{code}-{n}")
            at = min(earliest + dt.timedelta(seconds=span * n / CUSTOMERS_PER_BRAND), now)
            with transaction.atomic():
                _customer(brand, actor, rng, place, n, at)


def register() -> None:
    from telora.core.demo import DEMO_LOADERS

    if load_customers_demo not in DEMO_LOADERS:
        DEMO_LOADERS.append(load_customers_demo)
