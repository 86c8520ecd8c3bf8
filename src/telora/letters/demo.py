"""Demo data of the letters module, and the simulators `telora demo` runs for it.

Each demo brand gets the default templates and triggers in its language (welcome e-mail, low-balance
SMS, invoice e-mail and cover letter). The demo's history (customers, usage, bill runs) is loaded
before the letters: the letters consumer then starts *after* that history (it would otherwise
replay a year of events and write to every demo customer at once), and the demo makes its letters
deliberately, through the same paths real work takes:

- a customer who signs up today (customers' service): the `customer.created` event makes the
  welcome e-mail through the trigger;
- a prepaid line's data session rated today (the rating pipeline) takes its balance under the
  low-balance threshold: the `balance.low` event makes the SMS through the trigger;
- the newest issued invoice of an account that takes invoices by e-mail is delivered (the invoice
  e-mail with its PDF attached).

Appended to `telora.core.demo.DEMO_LOADERS`; loading twice changes nothing. `telora demo` runs the
mail catcher (`telora mail-catcher`) and the SMSC simulator (`telora smsc-simulator`) beside the
server (DEMO_COMPANIONS), so the worker sends these letters the moment it starts (docs/letters.md, Demo).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from telora.core import clock
from telora.core.models import Brand
from telora.core.services import Actor

CONSUMER = "letters"
NEW_CUSTOMER_NOTE = "Demo customer: signed up today (the letters demo's welcome e-mail)."
# Who signs up today, per brand, in the brand's country.
NEWCOMERS = {
    "nordlink": dict(first_name="Karen", last_name="Holm", email="karen.holm@example.com",
                     street1="Vestergade 7", postcode="1456", city="København K"),
    "bluewave": dict(first_name="Eleanor", last_name="Hughes", email="eleanor.hughes@example.com",
                     street1="12 Station Road", postcode="LS1 4AP", city="Leeds"),
}
USAGE_FILE = "{code}-letters-demo.csv"  # the data session that takes a prepaid line under its threshold
SMTP_PORT, SMPP_PORT = 8025, 2775


def load_letters_demo(actor: Actor, report) -> None:
    from telora.core.demo import DEMO_BRANDS
    from telora.letters.services.defaults import install_defaults

    brands = [b for b in (Brand.objects.filter(code=spec["code"]).first() for spec in DEMO_BRANDS) if b is not None]
    report.step("letters: templates, triggers and the first letters", 1 + 3 * len(brands))
    added = {brand.code: install_defaults(brand, actor=actor, at=clock.now()) for brand in brands}
    skipped = _start_after_history()
    if skipped:
        report.note(f"letters: the events consumer starts after the demo's history ({skipped} events)")
    report.advance()
    letters = {}
    for brand in brands:
        letters[brand.code] = []
        for make in (_welcome, _low_balance, _invoice):
            letters[brand.code].append(make(brand, actor))
            report.advance()
    _dispatch()
    for brand in brands:  # one line per brand
        said = []
        if added[brand.code]:
            said.append(f"{added[brand.code]} letter templates and triggers ({brand.language})")
        made = [text for text in letters[brand.code] if text]
        if made:
            said.append("the first letters: " + ", ".join(made))
        if said:
            report.note(f"{brand.code}: " + "; ".join(said))


def _start_after_history() -> int:
    """Only the first time: once the consumer has a position, the events after it are its to take."""
    from telora.events.models import ConsumerPosition
    from telora.events.services.dispatch import skip_to_end

    if ConsumerPosition.objects.filter(name=CONSUMER).exists():
        return 0
    return skip_to_end(CONSUMER)


def _dispatch() -> None:
    """Hand the new events to the letters consumer now (the worker would within a minute), so the
    first login finds the letters queued or already sent."""
    from telora.events.services.dispatch import dispatch

    while dispatch(CONSUMER):
        pass


def _welcome(brand: Brand, actor: Actor) -> str | None:
    from telora.customers import services as s
    from telora.customers.models import Customer

    spec = NEWCOMERS.get(brand.code)
    if spec is None or Customer.objects.filter(brand=brand, notes=NEW_CUSTOMER_NOTE).exists():
        return None
    from telora.customers.demo import PLACES

    place = PLACES[brand.code]
    at = clock.now()
    with transaction.atomic():
        customer = s.create_customer(brand, actor=actor, at=at, kind="private", first_name=spec["first_name"],
                                     last_name=spec["last_name"], email=spec["email"], notes=NEW_CUSTOMER_NOTE,
                                     phone=f"+{place['phone_prefix']}{'9' * place['phone_digits']}",
                                     id_type="id_card", id_number="ID9999999", birth_date=dt.date(1994, 5, 17))
        address = s.add_address(customer, actor=actor, at=at, street1=spec["street1"], postcode=spec["postcode"],
                                city=spec["city"], roles=["legal", "billing", "shipping"])
        s.create_billing_account(customer, actor=actor, at=at, billing_group="CONSUMER", invoice_delivery="email",
                                 payment_method="invoice", credit_limit="100.00", billing_address=address)
    return f"welcome e-mail to {customer.number} {customer.name} (signed up today)"


def _low_balance(brand: Brand, actor: Actor) -> str | None:
    """A data session rated now takes the first prepaid line with room above its threshold to 60 %
    of the threshold: the rating pipeline raises balance.low."""
    from telora.rating.demo import SOURCE
    from telora.rating.models import RatingBatch, UsageFile
    from telora.rating.services import import_usage_file, rate_batch

    name = USAGE_FILE.format(code=brand.code)
    if UsageFile.objects.filter(brand=brand, source=SOURCE, name=name).exists():
        return None
    found = _prepaid_line(brand)
    if found is None:
        return None
    subscription, number, volume = found
    now = clock.now()
    start = (now - dt.timedelta(minutes=20)).replace(microsecond=0).isoformat()
    data = (f"record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"
            f"{brand.code[:2].upper()}-LETTERS-1,data,{number},,{start},,{volume},,{brand.country},\n").encode()
    usage = import_usage_file(brand, data, format="csv", source=SOURCE, actor=actor, name=name, at=now, defer=False)
    for batch_id in RatingBatch.objects.filter(file=usage, status="pending").values_list("id", flat=True):
        rate_batch(batch_id)
    return f"low-balance SMS to {subscription.customer.number} (line {number}: a data session rated today)"


def _prepaid_line(brand: Brand):
    """(subscription, number, bytes) of the first active prepaid line of a private customer whose
    balance is above its threshold, and the data volume that takes it to 60 % of the threshold."""
    from telora.catalog.models import Rate
    from telora.customers.models import NumberAssignment, Subscription
    from telora.rating.services.balances import balance_of, current_plan, is_prepaid
    from telora.rating.services.context import low_balance_threshold

    now = clock.now()
    brand_threshold = low_balance_threshold(brand)
    lines = (Subscription.objects.filter(brand=brand, service_type="mobile_prepaid", status="active",
                                         customer__kind="private").exclude(customer__phone="")
             .select_related("customer").order_by("id"))
    for subscription in lines[:50]:
        if not is_prepaid(subscription, now):
            continue
        plan = current_plan(subscription, now)
        product = getattr(plan, "product", None)
        threshold = getattr(product, "low_balance_threshold", None)
        threshold = brand_threshold if threshold is None else threshold
        target = (Decimal(threshold) * Decimal("0.6")).quantize(Decimal("0.01"))
        balance = balance_of(subscription)
        rate_plan = getattr(product, "rate_plan", None)
        if balance <= threshold or rate_plan is None:
            continue
        rate = (Rate.objects.filter(rate_plan=rate_plan, service="data", zone__code="HOME", band="",
                                    valid_from__lte=now.date()).order_by("-valid_from").first())
        number = (NumberAssignment.objects.filter(subscription=subscription, valid_to__isnull=True)
                  .values_list("number", flat=True).first())
        if rate is None or not rate.price or number is None:
            continue
        volume = math.ceil((balance - target) / rate.price * rate.unit / 1024) * 1024
        return subscription, number, volume
    return None


def _invoice(brand: Brand, actor: Actor) -> str | None:
    from telora.billing.models import Invoice
    from telora.letters.models import Letter
    from telora.letters.services.invoices import deliver_invoice

    invoice = (Invoice.objects.filter(brand=brand, status="final", run__kind="production",
                                      account__invoice_delivery="email", account__customer__kind="private")
               .exclude(account__customer__email="").select_related("account", "account__customer", "brand")
               .order_by("-issue_date", "-id").first())
    if invoice is None or Letter.objects.filter(brand=brand, idempotency_key__startswith="invoice:").exists():
        return None
    deliver_invoice(invoice, actor=actor, at=clock.now())
    return f"invoice e-mail {invoice.number} with its PDF to {invoice.account.customer.number}"


def mail_catcher(var_dir: Path):
    """`telora demo`'s mail catcher, and the settings that point the server and the worker at it."""
    from telora.core.demo import DemoCompanion, free_port

    port, folder = free_port(SMTP_PORT), str(Path(var_dir) / "mail-catcher")
    return DemoCompanion("Mail catcher", ["mail-catcher", "--port", str(port), "--dir", folder], port,
                         f"catches every e-mail the demo sends (a letter's page shows it; kept in {folder})",
                         env={"TELORA_EMAIL_HOST": "127.0.0.1", "TELORA_EMAIL_PORT": str(port),
                              "TELORA_EMAIL_USE_TLS": "0", "TELORA_EMAIL_USE_SSL": "0", "TELORA_EMAIL_HOST_USER": "",
                              "TELORA_EMAIL_HOST_PASSWORD": "", "TELORA_MAIL_CATCHER_DIR": folder,
                              "TELORA_LETTER_FROM": "letters@demo.telora.invalid"})


def smsc(var_dir: Path):
    """`telora demo`'s SMS centre (the SMPP simulator), and the settings that point the worker at it."""
    from telora.core.demo import DemoCompanion, free_port

    port = free_port(SMPP_PORT)
    return DemoCompanion("SMSC simulator", ["smsc-simulator", "--port", str(port)], port,
                         "takes the demo's SMS over SMPP 3.4 and sends delivery receipts",
                         env={"TELORA_SMPP_HOST": "127.0.0.1", "TELORA_SMPP_PORT": str(port),
                              "TELORA_SMPP_SYSTEM_ID": "telora", "TELORA_SMPP_PASSWORD": ""})


def register() -> None:
    from telora.core.demo import DEMO_COMPANIONS, DEMO_LOADERS

    if load_letters_demo not in DEMO_LOADERS:
        DEMO_LOADERS.append(load_letters_demo)
    for make in (mail_catcher, smsc):
        if make not in DEMO_COMPANIONS:
            DEMO_COMPANIONS.append(make)
