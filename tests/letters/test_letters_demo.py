"""The demo's letters: templates in each brand's language, the events consumer starting after the
demo's history (a year of customers and invoices writes to nobody), and the three letters the demo
makes on purpose (welcome e-mail, low-balance SMS from rated usage, invoice e-mail with its PDF),
once; and `telora demo`'s companions (mail catcher, SMSC simulator)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from telora.core.demo import DEMO_COMPANIONS, DEMO_LOADERS, DemoReport, load_demo
from telora.letters import demo as letters_demo

pytestmark = pytest.mark.django_db


class Notes(DemoReport):
    def __init__(self):
        self.notes = []

    def note(self, text):
        self.notes.append(text)


@pytest.fixture
def small_demo(monkeypatch, settings, tmp_path):
    from telora.customers import demo as customers_demo

    monkeypatch.setattr(customers_demo, "CUSTOMERS_PER_BRAND", 6)
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC), tick=True):
        yield


def test_the_loader_and_the_companions_are_registered():
    from telora.billing.demo import load_billing_demo
    from telora.customers.demo import load_customers_demo
    from telora.rating.demo import load_usage_demo

    # after the history, which it must not replay (today's orders come after it and may write letters)
    history = [DEMO_LOADERS.index(loader) for loader in (load_customers_demo, load_usage_demo, load_billing_demo)]
    assert DEMO_LOADERS.index(letters_demo.load_letters_demo) > max(history)
    assert {letters_demo.mail_catcher, letters_demo.smsc} <= set(DEMO_COMPANIONS)


def test_the_demo_makes_its_first_letters_once_and_none_for_the_history(small_demo):
    from django.core.files.storage import default_storage

    from telora.core.models import Brand
    from telora.customers.models import Customer
    from telora.events.models import ConsumerPosition, Event
    from telora.letters.models import Letter, LetterTemplate
    from telora.porting.models import PortingRequest

    report = Notes()
    load_demo(report)
    for code, language, words in (("nordlink", "da", ("Velkommen", "tilbage på", "faktura")),
                                  ("bluewave", "en", ("Welcome", "your balance", "invoice"))):
        brand = Brand.objects.get(code=code)
        assert set(LetterTemplate.objects.filter(brand=brand).values_list("language", flat=True)) == {language}
        ported_in = PortingRequest.objects.filter(brand=brand, direction="in").values("customer_id")
        letters = Letter.objects.filter(brand=brand).exclude(customer_id__in=ported_in)  # (the porting demo's own)
        assert letters.count() == 3  # not one per customer created or invoice issued in the history
        welcome = letters.get(template__code="welcome")
        assert welcome.customer.notes == letters_demo.NEW_CUSTOMER_NOTE and welcome.subject.startswith(words[0])
        assert welcome.state == "queued" and welcome.trigger is not None  # through the trigger, by the consumer
        sms = letters.get(channel="sms")
        event = Event.objects.get(pk=int(sms.event_id))
        assert event.type == "balance.low" and Decimal(event.payload["balance"]) < Decimal(event.payload["threshold"])
        assert Decimal(event.payload["balance"]) > 0 and words[1] in sms.text
        invoice = letters.get(template__code="invoice")
        assert invoice.channel == "email" and words[2] in invoice.subject.lower()
        (attachment,) = invoice.attachments
        assert attachment["name"].endswith(".pdf") and default_storage.exists(attachment["path"])
        (note,) = [n for n in report.notes if n.startswith(f"{code}: ") and "letter templates" in n]
        assert "welcome e-mail to" in note and "low-balance SMS to" in note and "invoice e-mail" in note
    position = ConsumerPosition.objects.get(name="letters")
    assert position.delivered >= 2 and position.failures == 0

    customers, letters = Customer.objects.count(), Letter.objects.count()
    again = Notes()
    load_demo(again)
    assert (Customer.objects.count(), Letter.objects.count()) == (customers, letters)
    assert not [n for n in again.notes if "letter" in n]


def test_the_companions_point_the_server_at_the_catcher_and_the_simulator(tmp_path):
    catcher, smsc = letters_demo.mail_catcher(tmp_path), letters_demo.smsc(tmp_path)
    assert catcher.argv[0] == "mail-catcher" and catcher.env["TELORA_EMAIL_PORT"] == str(catcher.port)
    assert catcher.env["TELORA_MAIL_CATCHER_DIR"] == str(tmp_path / "mail-catcher")
    assert smsc.argv[0] == "smsc-simulator" and smsc.env["TELORA_SMPP_PORT"] == str(smsc.port)


def test_the_mail_catcher_keeps_what_it_gets_and_the_letter_page_shows_it(ann, bob, make_user, settings, tmp_path):
    """A real SMTP conversation: the sending job hands the welcome e-mail to the catcher, which keeps it;
    the letter's page shows the caught copy (headers, text) to the brand's users, another brand gets 404."""
    from django.urls import reverse
    from letters_helpers import free_port

    from gui_helpers import login
    from telora.core import clock
    from telora.letters import mail_catcher
    from telora.letters.services import queue_letter
    from telora.letters.services.outbox import send_due

    folder = tmp_path / "caught"
    catcher = mail_catcher.start("127.0.0.1", free_port(), folder)
    try:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", catcher.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.TELORA_MAIL_CATCHER_DIR = str(folder)
        letter = queue_letter(ann.brand, actor=_system(), at=clock.now(), key="welcome-1", customer=ann,
                              template_code="welcome", channel="email")
        assert send_due("email")["sent"] == 1
    finally:
        catcher.stop()
    letter.refresh_from_db()
    (kept,) = folder.glob("*.eml")
    caught = mail_catcher.find(letter.provider_ref)
    assert caught is not None and caught.name == kept.name and caught.envelope_to == "annabel@example.com"
    assert ("Subject", letter.subject) in caught.headers
    assert [p.text.strip() for p in caught.parts if p.content_type == "text/plain"] == [letter.text.strip()]
    assert mail_catcher.find("<nothing@else>") is None

    page = login(make_user("reader", {ann.brand: ["letters.view"]}), ann.brand).get(
        reverse("letters:letter", args=[letter.pk])).content.decode()
    assert 'data-testid="caught-mail"' in page and "What the mail server received" in page
    assert letter.subject in page and "annabel@example.com" in page
    other = login(make_user("other", {bob.brand: ["letters.view"]}), bob.brand)
    assert other.get(reverse("letters:letter", args=[letter.pk])).status_code == 404


def _system():
    from telora.core.services import Actor

    return Actor.system("test")
