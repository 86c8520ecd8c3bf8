"""Triggers and the event consumer (called with plain event objects), consent and preferences, the
print queue (batch PDF, manifest, drop folder, printed), and invoice delivery by the account's choice."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from letters_helpers import Event, make_customer
from pypdf import PdfReader

from telora.core import clock
from telora.core.services.actors import ServiceError
from telora.letters.consumers import handle_event, handle_events, matching_triggers
from telora.letters.models import Letter, LetterPreference, Trigger
from telora.letters.services import make_batch, mark_printed, save_template, save_trigger
from telora.letters.services.invoices import deliver_run
from telora.letters.services.printing import export_to_drop_folder
from telora.privacy.services import record_consent

pytestmark = pytest.mark.usefixtures("shop_kept")


def test_customer_created_sends_the_welcome_once_per_event(ann, system):
    event = Event(id=101, type="customer.created", brand_id=ann.brand_id, subject_type="customers.customer",
                  subject_id=str(ann.pk))
    [letter] = handle_event(event)
    assert letter.channel == "email" and letter.subject.startswith("Welcome to Alpha Mobile")
    assert letter.event_id == "101" and letter.trigger.event_type == "customer.created"
    assert [x.pk for x in handle_event(event)] == [letter.pk]  # delivered again: nothing new
    assert Letter.objects.count() == 1
    handle_event(Event(id=102, type="customer.created", brand_id=ann.brand_id, payload={"customer_id": ann.pk}))
    assert Letter.objects.count() == 2


def test_a_batch_of_events_queues_its_letters_together_each_brand_in_its_own(ann, bob, system, shop):
    """The consumer's batch form: one letter per (event, trigger), in the event's brand only; an
    event of a brand whose customer it does not name, or of a type without trigger, sends nothing."""
    events = [Event(id=201 + n, type="customer.created", brand_id=ann.brand_id, payload={"customer_id": ann.pk})
              for n in range(3)]
    events += [Event(id=300, type="customer.created", brand_id=bob.brand_id, payload={"customer_id": bob.pk}),
               Event(id=301, type="customer.created", brand_id=bob.brand_id, payload={"customer_id": ann.pk}),
               Event(id=302, type="billrun.finished", brand_id=ann.brand_id, payload={"customer_id": ann.pk})]
    letters = handle_events(events)
    assert sorted(letter.event_id for letter in letters) == ["201", "202", "203", "300"]
    assert {letter.brand_id for letter in letters if letter.event_id == "300"} == {bob.brand_id}
    assert all(letter.state == "queued" and "Welcome" in letter.subject for letter in letters)
    assert [x.pk for x in handle_events(events)] == [x.pk for x in letters]  # again: the same letters
    assert Letter.objects.count() == 4


def test_conditions_on_the_event_select_the_trigger(ann, system):
    line = ann.subscriptions.get()
    trigger = Trigger.objects.get(brand=ann.brand, event_type="balance.low")
    save_trigger(ann.brand, actor=system, at=clock.now(), trigger=trigger, name="Prepaid only",
                 event_type="balance.low", template_code="balance-low", channel="sms",
                 conditions=[{"field": "service_type", "op": "eq", "value": "mobile_prepaid"}])
    event = Event(id=7, type="balance.low", brand_id=ann.brand_id,
                  payload={"subscription_id": line.pk, "balance": "1.20", "threshold": "2.00"})
    assert handle_event(event) == []  # a postpaid line
    save_trigger(ann.brand, actor=system, at=clock.now(), trigger=trigger, name="Low", event_type="balance.low",
                 template_code="balance-low", channel="sms",
                 conditions=[{"field": "payload.balance", "op": "lt", "value": "2"},
                             {"field": "service_type", "op": "in", "value": ["mobile_postpaid", "mobile_prepaid"]}])
    [letter] = handle_event(event)
    assert letter.channel == "sms" and "€1.20" in letter.text and line.identifier in letter.text


def test_another_brands_event_finds_nothing_of_this_brand(ann, bob, system):
    event = Event(id=9, type="customer.created", brand_id=bob.brand_id, payload={"customer_id": ann.pk})
    assert handle_event(event) == []  # ann is not bob's brand's customer


@pytest.mark.parametrize("conditions", [
    [{"field": "__class__", "op": "eq", "value": "x"}],
    [{"field": "payload.x", "op": "exec", "value": "x"}],
    [{"field": "payload.x", "op": "in", "value": "not a list"}],
    "payload.x == 1",
])
def test_conditions_are_checked_data(shop, system, conditions):
    with pytest.raises(ServiceError) as caught:
        save_trigger(shop, actor=system, at=clock.now(), name="x", event_type="balance.low",
                     template_code="balance-low", channel="sms", conditions=conditions)
    assert caught.value.field == "conditions"


def test_trigger_refuses_unknown_events_and_templates(shop, system):
    with pytest.raises(ServiceError) as caught:
        save_trigger(shop, actor=system, at=clock.now(), name="x", event_type="balance.lowish",
                     template_code="balance-low", channel="sms")
    assert caught.value.field == "event_type"
    with pytest.raises(ServiceError) as caught:
        save_trigger(shop, actor=system, at=clock.now(), name="x", event_type="balance.low",
                     template_code="balance-low", channel="email")
    assert caught.value.field == "template_code"


def test_matching_is_pure():
    class T:
        def __init__(self, conditions):
            self.conditions = conditions

    a, b = T([]), T([{"field": "customer_group", "op": "eq", "value": "staff"}])
    assert matching_triggers([a, b], {"customer_group": "retail"}) == [a]


def test_marketing_needs_opt_in_service_does_not(ann, system):
    save_template(ann.brand, actor=system, at=clock.now(), code="offer", channel="sms", purpose="marketing",
                  text="{{ brand.name }}: 10 GB extra this week!")
    save_trigger(ann.brand, actor=system, at=clock.now(), name="Offer", event_type="bundle.used_80",
                 template_code="offer", channel="sms")
    event = Event(id=1, type="bundle.used_80", brand_id=ann.brand_id, payload={"customer_id": ann.pk})
    assert handle_event(event) == []
    record_consent(ann, actor=system, at=clock.now(), purpose="marketing_sms", granted=True, channel="shop")
    [letter] = handle_event(event)
    assert letter.purpose == "marketing"
    record_consent(ann, actor=system, at=clock.now() + dt.timedelta(seconds=1), purpose="marketing_sms",
                   granted=False, channel="shop", given_at=clock.now())
    assert handle_event(Event(id=2, type="bundle.used_80", brand_id=ann.brand_id,
                              payload={"customer_id": ann.pk})) == []


def test_preferred_channel_and_language(ann, system):
    save_template(ann.brand, actor=system, at=clock.now(), code="welcome", channel="sms", text="Welkom {{ customer.name }}",
                  language="nl")
    save_trigger(ann.brand, actor=system, at=clock.now(), name="Welcome any way", event_type="customer.changed",
                 template_code="welcome", channel="preferred")
    LetterPreference.objects.create(brand=ann.brand, customer=ann, channel="sms", updated_at=clock.now())
    ann.language = "nl"
    ann.save(update_fields=["language"])
    [letter] = handle_event(Event(id=5, type="customer.changed", brand_id=ann.brand_id,
                                  payload={"customer_id": ann.pk}))
    assert letter.channel == "sms" and letter.text == "Welkom Annabel Vermeulen" and letter.language == "nl"


def _invoice(customer, run, number):
    from telora.billing.documents.sample import example_document
    from telora.billing.models import Invoice

    document = example_document()
    document["invoice"]["number"] = number
    return Invoice.objects.create(
        brand=customer.brand, run=run, account=customer.accounts.get(), number=number, status="final",
        period_start=run.period_start, period_end=run.period_end, issue_date=dt.date(2026, 11, 1),
        due_date=dt.date(2026, 11, 15), currency="EUR", net=Decimal("10.00"), tax=Decimal("2.10"),
        total=Decimal("12.10"), document=document, created_at=clock.now())


def test_invoice_delivery_by_email_and_paper_then_the_print_house(shop, ann, system, smtp, settings, tmp_path):
    from telora.billing.models import BillRun
    from telora.letters.services.outbox import send_due

    paper = make_customer(shop, system, first="Piet", last="Paper", email="piet@example.com", delivery="print")
    run = BillRun.objects.create(brand=shop, kind="production", status="done", cycle=ann.accounts.get().bill_cycle,
                                 period_start=dt.date(2026, 10, 1), period_end=dt.date(2026, 10, 31),
                                 created_at=clock.now())
    _invoice(ann, run, "INV-1")
    _invoice(paper, run, "INV-2")
    result = deliver_run(run, actor=system, at=clock.now())
    assert result == {"letters": 2, "failed": []}
    assert deliver_run(run, actor=system, at=clock.now())["letters"] == 2 and Letter.objects.count() == 2
    send_due("email")
    [mail] = smtp.messages
    assert mail["To"] == "invoices.annabel@example.com" and "INV-1" in mail["Subject"]
    [pdf] = [part for part in mail.iter_attachments()]
    assert pdf.get_filename() == "INV-1.pdf" and pdf.get_content().startswith(b"%PDF")
    printed = Letter.objects.get(channel="print")
    assert printed.state == "queued" and "Prinsengracht 263" in printed.recipient
    batch = make_batch(shop, actor=system, at=clock.now())
    with default_storage.open(batch.pdf, "rb") as handle:
        pages = PdfReader(handle).pages
        assert len(pages) >= 2 and "Piet Paper" in pages[0].extract_text()
    with default_storage.open(batch.manifest, "rb") as handle:
        [row] = list(csv.DictReader(io.StringIO(handle.read().decode())))
    assert row["customer"] == paper.number and int(row["pages"]) == len(pages)
    settings.TELORA_PRINT_DROP_DIR = str(tmp_path / "drop")
    written = export_to_drop_folder(batch, actor=system, at=clock.now())
    assert sorted(p.name for p in written) == ["batch-00001.csv", "batch-00001.pdf"]
    with pytest.raises(ServiceError):
        make_batch(shop, actor=system, at=clock.now())  # nothing waiting any more
    mark_printed(batch, actor=system, at=clock.now())
    printed.refresh_from_db()
    assert printed.state == "sent" and printed.print_batch_id == batch.pk
