"""Demo customers for the demo brands: a catalogue, SIMs and numbers, and a few hundred customers,
each brand in its own country (Nordlink in Denmark, Bluewave in the United Kingdom).

Appended to `telora.core.demo.DEMO_LOADERS`. Loading twice changes nothing: the catalogue is
applied only to a brand without products, stock is imported only when the brand has none, and
customers are added until the brand has `CUSTOMERS_PER_BRAND`. Everything goes through the
services (so the demo is audited like real work), spread over the past year; sales and changes of
lines are account actions (`customers.actions.take`), so with the orders module each is an order.
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
from telora.core.demo import DemoReport
from telora.core.models import Brand
from telora.core.services.actors import Actor
from telora.customers import services as s
from telora.customers.actions import take
from telora.customers.models import Customer, Subscription
from telora.inventory.models import PhoneNumber, SimCard
from telora.inventory.services import import_numbers, import_sims

CUSTOMERS_PER_BRAND = 250
STOCK = 600
DATA = Path(__file__).parent / "demo_data"
CATALOG = DATA / "catalog.yaml"  # Nordlink's: the reference catalogue (DK) with the demo's groups
# Per brand, everything that must agree with its country: the catalogue (whose brand block is the
# brand's), numbers (E.164 digits: Danish mobiles 20 10 xx xx, UK mobiles 07400 xxxxxx), ICCID
# prefix (89, the country's calling code, issuer: 10 digits), IMSI prefix (MCC and MNC), the contact
# phones' prefix (digits after it: `phone_digits`), places, streets, names and company forms.
PLACES = {
    "nordlink": dict(catalog=CATALOG, numbers=4520100000, iccid="8945020099", imsi="23820",
                     phone_prefix="4528", phone_digits=6,
                     cities=[("København K", "1050"), ("Aarhus C", "8000"), ("Odense C", "5000"), ("Aalborg", "9000"),
                             ("Roskilde", "4000")],
                     streets=["Vestergade", "Nørregade", "Søndergade", "Algade", "Strandvejen", "Skolevej"],
                     first=["Anne", "Mette", "Freja", "Ida", "Sofie", "Emma", "Laura", "Maja", "Clara", "Mads",
                            "Rasmus", "Jens", "Lars", "Søren", "Mikkel", "Frederik", "Magnus", "Oliver"],
                     last=["Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
                           "Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen"],
                     companies=["Nordhavn", "Fyrtårn", "Skovly", "Havblik", "Kystlinjen", "Bølgen", "Lyngby VVS",
                                "Østerbro Tømrer", "Dansk Kaffe", "Vestjysk Transport"],
                     forms=["ApS", "A/S"]),
    "bluewave": dict(catalog=DATA / "catalog-bluewave.yaml", numbers=447400000000, iccid="8944100099",
                     imsi="23410", phone_prefix="44791", phone_digits=7,
                     cities=[("London", "SW1A"), ("Leeds", "LS1"), ("Bristol", "BS1"), ("Manchester", "M1"),
                             ("Glasgow", "G1")],
                     streets=["High Street", "Station Road", "Church Lane", "Mill Road", "Victoria Road"],
                     first=["Oliver", "George", "Harry", "Jack", "Charlie", "Thomas", "James", "Amelia", "Olivia",
                            "Isla", "Emily", "Poppy", "Ava", "Sophie", "Grace", "Priya"],
                     last=["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas", "Roberts",
                           "Walker", "Wright", "Robinson", "Thompson", "Patel", "Khan"],
                     companies=["Thames Valley Joinery", "Northern Lights", "Redbrick", "Harbourside", "Pennine",
                                "Kingfisher", "Oakleaf", "Brightwater", "Castlegate", "Moorland"],
                     forms=["Ltd", "Ltd", "LLP"]),
}
ASCII = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})


def catalogue_document(brand: Brand) -> dict:
    """The brand's demo catalogue as applied: the file's brand block with the brand's code and name."""
    data = load(PLACES[brand.code]["catalog"].read_text())
    data["brand"] = {**data["brand"], "code": brand.code, "name": brand.name}
    return data


def _catalogue(brand: Brand, actor: Actor, start: dt.date) -> None:
    if Product.objects.filter(brand=brand).exists():
        return
    apply_catalog(catalogue_document(brand), actor=actor, at=clock.now(), effective_from=start, source="customers demo")


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


def _vat_number(brand: Brand, rng: random.Random) -> str:
    """A VAT number of the brand's country that passes its check digits (DK: the CVR number)."""
    from stdnum.dk import cvr
    from stdnum.gb import vat

    checker, low, high = (cvr, 10_000_000, 99_999_999) if brand.country == "DK" else (vat, 100_000_000, 999_999_999)
    while True:
        digits = str(rng.randint(low, high))
        if checker.is_valid(digits):
            return f"{brand.country}{digits}"


def _customer(brand: Brand, actor: Actor, rng: random.Random, place: dict, n: int, at: dt.datetime) -> None:
    business = n % 7 == 3
    city, postcode = rng.choice(place["cities"])
    first, last = rng.choice(place["first"]), rng.choice(place["last"])
    values = dict(email=f"{first.lower()}.{last.lower()}.{n}@example.com".translate(ASCII), notes="Demo customer.",
                  phone=f"+{place['phone_prefix']}{n:0{place['phone_digits']}d}")
    if business:
        customer = s.create_customer(brand, actor=actor, at=at, kind="business",
                                     company_name=f"{rng.choice(place['companies'])} {rng.choice(place['forms'])}",
                                     vat_number=_vat_number(brand, rng), customer_group="SME", **values)
    else:
        customer = s.create_customer(brand, actor=actor, at=at, kind="private", first_name=first, last_name=last,
                                     id_type="id_card", id_number=f"ID{n:07d}",
                                     birth_date=dt.date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
                                     customer_group="STUDENT" if n % 11 == 0 else None, **values)
    address = s.add_address(customer, actor=actor, at=at, street1=f"{rng.choice(place['streets'])} {1 + n % 120}",
                            postcode=postcode if brand.country == "DK" else f"{postcode} {n % 9}AA",
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
    sold = {"channel": ("WEB", "SHOP", "TELE")[n % 3]}  # the catalogue's sales channels, in turn
    interface = "selfcare" if n % 3 == 0 else "gui"  # web sales came through self-care, the others a CSR
    for line in range(lines):
        kind = n % 10
        if kind == 5 and line == 0:
            _act("sign_up", customer, dict(billing_account=account, service_type="fiber", plan="FIBER_500",
                                           identifier=f"FIB-{brand.code.upper()}-{n:06d}",
                                           installation_address=address, **sold),
                 actor=actor, at=at, interface=interface, run=s.create_subscription)
            continue
        if kind == 8 and line == 0:
            _act("sign_up", customer, dict(billing_account=account, service_type="voip", plan="VOIP_LINE", **sold),
                 actor=actor, at=at, interface=interface, run=s.create_subscription)
            continue
        prepaid = kind == 2
        plan = "MOB_PRE" if prepaid else ("MOB_POST_10GB" if (n + line) % 2 else "MOB_POST_BASIC")
        sub = _act("sign_up", customer, dict(
            billing_account=account, service_type="mobile_prepaid" if prepaid else "mobile_postpaid", plan=plan,
            addons=["ROAM_EU_5GB"] if not prepaid and n % 3 == 0 else [],
            sim_type="esim" if n % 6 == 0 else "usim-4g", shipping_address=address, **sold),
            actor=actor, at=at, interface=interface, run=s.create_subscription)
        if later >= clock.now():
            continue
        if not prepaid and n % 5 == 1:
            _act("change_plan", sub, {"plan": "MOB_POST_10GB" if plan == "MOB_POST_BASIC" else "MOB_POST_BASIC"},
                 actor=actor, at=later, interface=interface, run=s.change_plan)
        elif n % 13 == 0:
            _act("suspend", sub, {"reason": "unpaid invoice"}, actor=actor, at=later, interface=interface,
                 run=s.suspend_subscription)
        elif n % 17 == 0:
            _act("terminate", sub, {"reason": "moved abroad"}, actor=actor, at=later, interface=interface,
                 run=s.terminate_subscription)


def _act(action: str, target, values: dict, *, actor: Actor, at: dt.datetime, interface: str, run):
    """An account action as the screens take it: an order (with its number and step log) when the orders
    module runs, else the service at once. The demo's history completes: the desks' own work is loaded
    later (orders/demo.py), once the standard flows are."""
    def now(moment):
        args = dict(values)
        if action == "change_plan":
            return run(target, args.pop("plan"), actor=actor, at=moment, interface=interface)
        if action == "sign_up":
            args["interface"] = interface
        return run(target, actor=actor, at=moment, **args)

    outcome = take(action, target, values, actor=actor, at=at, interface=interface, run=now)
    return outcome.result


def load_customers_demo(actor: Actor, report: DemoReport) -> None:
    """Per demo brand that exists: catalogue, stock, then customers up to CUSTOMERS_PER_BRAND."""
    now = clock.now()
    for code, place in PLACES.items():
        brand = Brand.objects.filter(code=code).first()
        if brand is None:
            continue
        start = clock.today(brand) - dt.timedelta(days=400)
        have = Customer.objects.filter(brand=brand).count()
        report.step(f"{code}: catalogue, stock and customers", 1 + max(CUSTOMERS_PER_BRAND - have, 0))
        with transaction.atomic():
            _catalogue(brand, actor, start)
            _stock(brand, actor, place)
        report.advance()
        first_day = Product.objects.filter(brand=brand, code="MOB_POST_BASIC").values_list("valid_from", flat=True)
        earliest = max([now - dt.timedelta(days=365)] + [
            dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=1) for day in first_day])
        span = max((now - earliest).total_seconds() - 90 * 86400, 3600)
        for n in range(have, CUSTOMERS_PER_BRAND):
            rng = random.Random(f"{code}-{n}")
            at = min(earliest + dt.timedelta(seconds=span * n / CUSTOMERS_PER_BRAND), now)
            with transaction.atomic():
                _customer(brand, actor, rng, place, n, at)
            report.advance()
        report.note(f"{code}: {Customer.objects.filter(brand=brand).count()} customers, "
                    f"{Subscription.objects.filter(brand=brand).count()} subscriptions ({brand.country}, "
                    f"{brand.currency}, {brand.timezone})")


def register() -> None:
    from telora.core.demo import DEMO_LOADERS

    if load_customers_demo not in DEMO_LOADERS:
        DEMO_LOADERS.append(load_customers_demo)
