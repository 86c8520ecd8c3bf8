"""The outbox with real gateways: e-mail to an aiosmtpd server, SMS to the SMPP simulator (receipts,
long and Unicode texts), refusals, backoff, crash-safe sending, resend, bad data parking one letter."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from letters_helpers import make_customer

from telora.core import clock
from telora.core.services.actors import ServiceError
from telora.customers.models import Customer
from telora.letters.models import Letter
from telora.letters.services import queue_letter, resend, save_template, send_due
from telora.letters.services.outbox import collect_receipts

pytestmark = pytest.mark.usefixtures("shop_kept")


def _welcome(customer, system, key="k1", **values):
    return queue_letter(customer.brand, actor=system, at=clock.now(), key=key, customer=customer,
                        template_code="welcome", channel="email", **values)


def test_an_email_goes_to_the_smtp_server_with_a_stable_message_id(ann, system, smtp):
    letter = _welcome(ann, system)
    assert letter.state == "queued" and letter.subject == "Welcome to Alpha Mobile, Annabel"
    assert send_due("email") == {"sent": 1, "failed": 0, "retry": 0}
    letter.refresh_from_db()
    assert letter.state == "sent" and letter.tries == 1 and letter.sent_at
    [mail] = smtp.messages
    assert mail["To"] == "annabel@example.com" and mail["Subject"] == letter.subject
    assert mail["Message-ID"] == letter.provider_ref and "alpha.k1" in mail["Message-ID"]
    assert "customer number is" in mail.get_body(("plain",)).get_content()
    assert "<b>" in mail.get_body(("html",)).get_content()


def test_the_same_key_queues_once(ann, system):
    assert _welcome(ann, system).pk == _welcome(ann, system).pk
    assert Letter.objects.count() == 1


def test_a_refused_recipient_fails_with_the_servers_reason(ann, system, smtp):
    smtp.refuse.add("annabel@example.com")
    letter = _welcome(ann, system)
    send_due("email")
    letter.refresh_from_db()
    assert letter.state == "failed" and "550" in letter.error and "mailbox unavailable" in letter.error
    assert smtp.messages == []


def test_a_server_that_is_down_means_retry_with_backoff(ann, system, settings):
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    letter = _welcome(ann, system)
    start = clock.now()
    send_due("email", at=start)
    letter.refresh_from_db()
    assert letter.state == "queued" and letter.tries == 1 and "unreachable" in letter.error
    assert letter.next_try_at == start + dt.timedelta(minutes=1)
    assert send_due("email", at=start + dt.timedelta(seconds=30)) == {"sent": 0, "failed": 0, "retry": 0}
    send_due("email", at=start + dt.timedelta(minutes=1))
    letter.refresh_from_db()
    assert letter.tries == 2 and letter.next_try_at == start + dt.timedelta(minutes=3)


def test_a_crash_between_send_and_commit_resends_at_most_once(ann, system, smtp):
    letter = _welcome(ann, system)
    with pytest.raises(SystemExit):
        send_due("email", crash_after_send=True)
    letter.refresh_from_db()
    assert letter.state == "sending" and len(smtp.messages) == 1
    assert send_due("email") == {"sent": 0, "failed": 0, "retry": 0}  # its lease has not passed
    with time_machine.travel(clock.now() + dt.timedelta(minutes=6)):
        with pytest.raises(SystemExit):
            send_due("email", crash_after_send=True)  # recovered, sent once more, and crashed again
    letter.refresh_from_db()
    assert letter.state == "sending" and len(smtp.messages) == 2
    assert smtp.messages[0]["Message-ID"] == smtp.messages[1]["Message-ID"]  # the receiver can drop the copy
    assert [e["what"] for e in letter.log] == ["queued", "try 1", "recovered", "try 2"]
    with time_machine.travel(clock.now() + dt.timedelta(minutes=20)):
        send_due("email")
    letter.refresh_from_db()
    assert letter.state == "failed" and "interrupted twice" in letter.error
    assert len(smtp.messages) == 2  # never a third copy


def test_recovery_after_one_crash_ends_sent(ann, system, smtp):
    letter = _welcome(ann, system)
    with pytest.raises(SystemExit):
        send_due("email", crash_after_send=True)
    with time_machine.travel(clock.now() + dt.timedelta(minutes=6)):
        send_due("email")
    letter.refresh_from_db()
    assert letter.state == "sent" and letter.tries == 2 and len(smtp.messages) == 2
    assert any(e["what"] == "recovered" for e in letter.log)


def test_sms_through_smpp_with_a_delivery_receipt(ann, system, smsc):
    letter = queue_letter(ann.brand, actor=system, at=clock.now(), key="s1", customer=ann,
                          template_code="balance-low", channel="sms",
                          subscription=ann.subscriptions.get(),
                          event=type("E", (), {"type": "balance.low", "at": "", "payload": {"balance": "1.50"}})())
    assert letter.recipient == "31612345678" and "€1.50" in letter.text
    assert send_due("sms")["sent"] == 1
    letter.refresh_from_db()
    [message] = smsc.messages
    assert message.destination == "31612345678" and message.text == letter.text and message.data_coding == 0
    assert letter.provider_ref == message.message_id
    if letter.state == "sent":  # the receipt may come after the submit's answer: collected separately
        collect_receipts(1.0)
        letter.refresh_from_db()
    assert letter.state == "delivered" and letter.delivered_at
    assert any(e["what"] == "receipt DELIVRD" for e in letter.log)


def test_long_unicode_sms_is_split_and_joined(ann, system, smsc):
    text = "Привет " * 30
    letter = queue_letter(ann.brand, actor=system, at=clock.now(), key="s2", customer=ann, channel="sms",
                          parts={"text": text})
    send_due("sms")
    letter.refresh_from_db()
    [message] = smsc.messages
    assert message.data_coding == 8 and len(message.parts) == 4 and message.text == text
    assert letter.state in ("sent", "delivered") and letter.provider_ref.count(",") == 3


def test_smsc_refusal_and_undelivered_receipt(shop, system, smsc):
    refused = make_customer(shop, system, first="Rita", last="Refused", phone="+31 6 5001 2345")
    lost = make_customer(shop, system, first="Ulf", last="Undelivered", phone="+31 6 4001 2345")
    a = queue_letter(shop, actor=system, at=clock.now(), key="r", customer=refused, channel="sms",
                     parts={"text": "hi"})
    b = queue_letter(shop, actor=system, at=clock.now(), key="u", customer=lost, channel="sms", parts={"text": "hi"})
    send_due("sms")
    collect_receipts(1.0)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.state == "failed" and "0x0B" in a.error and "invalid destination" in a.error
    assert b.state == "bounced" and "UNDELIV" in b.error


def test_a_template_failing_on_one_customer_parks_that_letter_only(shop, system, smtp):
    save_template(shop, actor=system, at=clock.now(), code="notice", channel="email", subject="Notice",
                  text="{{ event.payload.amount|money(brand.code) }}")  # fine with the samples (no amount)...
    good = make_customer(shop, system, first="Gina", last="Good", email="gina@example.com")
    bad = make_customer(shop, system, first="Bert", last="Bad", email="bert@example.com")
    event = type("E", (), {"type": "x", "at": "", "payload": {"amount": "5"}})
    broken = queue_letter(shop, actor=system, at=clock.now(), key="b", customer=bad, template_code="notice",
                          channel="email", event=event())  # ...but "alpha" is no currency
    fine = _welcome(good, system, key="g")
    assert broken.state == "failed" and "notice v1" in broken.error and "text" in broken.error
    assert "ISO 4217" in broken.error
    send_due("email")
    fine.refresh_from_db()
    assert fine.state == "sent" and len(smtp.messages) == 1


def test_invalid_recipient_in_old_data_is_reported_and_refused_when_typed(ann, system):
    Customer.objects.filter(pk=ann.pk).update(email="not-an-address")
    ann.refresh_from_db()
    letter = _welcome(ann, system)
    assert letter.state == "failed" and "'not-an-address' is not a valid e-mail address" in letter.error
    with pytest.raises(ServiceError) as caught:
        _welcome(ann, system, key="k2", recipient="nobody@", check_recipient=True)
    assert caught.value.field == "recipient"
    with pytest.raises(ServiceError) as caught:
        queue_letter(ann.brand, actor=system, at=clock.now(), key="k3", customer=ann, channel="sms",
                     parts={"text": "x"}, recipient="12", check_recipient=True)
    assert caught.value.field == "recipient"


def test_resend_makes_a_new_letter_and_keeps_the_failed_one(ann, system, smtp, make_user):
    smtp.refuse.add("annabel@example.com")
    letter = _welcome(ann, system)
    send_due("email")
    copy = resend(Letter.objects.get(pk=letter.pk), actor=system, at=clock.now(), recipient="ann@example.org")
    send_due("email")
    copy.refresh_from_db()
    letter.refresh_from_db()
    assert letter.state == "failed" and copy.state == "sent" and copy.resend_of_id == letter.pk
    assert smtp.messages[0]["To"] == "ann@example.org"
    with pytest.raises(ServiceError):
        resend(copy, actor=system, at=clock.now(), recipient="nope")


def test_smtp_auth_settings_are_used(ann, system, settings):
    """EMAIL_HOST_USER / EMAIL_HOST_PASSWORD log in (AUTH PLAIN/LOGIN); a wrong password is no send."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
    from letters_helpers import Mailbox, free_port

    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"letters" and auth_data.password == b"s3cret")

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    try:
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", controller.port, False
        settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "letters", "wrong"
        letter = _welcome(ann, system)
        send_due("email")
        letter.refresh_from_db()
        assert letter.state == "queued" and "EMAIL_HOST_PASSWORD" in letter.error and mailbox.messages == []
        settings.EMAIL_HOST_PASSWORD = "s3cret"
        send_due("email", at=clock.now() + dt.timedelta(minutes=2))
        letter.refresh_from_db()
        assert letter.state == "sent" and len(mailbox.messages) == 1
        assert (b"letters", b"s3cret") in seen
    finally:
        controller.stop()


def test_a_costly_template_on_real_data_is_stopped_and_fails_that_letter(ann, system, settings):
    """Fine on the samples, endless on this event: the render's bounds stop it in the worker."""
    settings.TELORA_TEMPLATE_MAX_LOOP_ITERATIONS = 10_000
    from telora.letters.services import rendering

    rendering.close()  # a worker with these limits
    try:
        save_template(ann.brand, actor=system, at=clock.now(), code="loop", channel="sms",
                      text="{% for i in range(event.payload.n|int) %}{% for j in range(event.payload.n|int) %}"
                           "{% endfor %}{% endfor %}done")
        event = type("E", (), {"type": "x", "at": "", "payload": {"n": "50000"}})
        letter = queue_letter(ann.brand, actor=system, at=clock.now(), key="loop", customer=ann,
                              template_code="loop", channel="sms", event=event())
        assert letter.state == "failed" and "loop steps" in letter.error and "loop v1" in letter.error
        fine = queue_letter(ann.brand, actor=system, at=clock.now(), key="fine", customer=ann, channel="sms",
                            parts={"text": "still working"})
        assert fine.state == "queued" and fine.text == "still working"
    finally:
        rendering.close()


def test_many_letters_queue_together_and_one_bad_render_fails_only_itself(ann, system, smtp, settings):
    """queue_letters: keys already queued come back, a render that breaches a worker limit is found
    letter by letter (the others render), errors come back per item; the batch goes out over several
    SMTP sessions, each mail with its own stable Message-ID."""
    from telora.core.models import AuditEvent
    from telora.letters.services import rendering
    from telora.letters.services.outbox import queue_letters

    settings.TELORA_TEMPLATE_WALL_SECONDS, settings.TELORA_SMTP_CONNECTIONS = 5, 3
    settings.TELORA_TEMPLATE_MAX_LOOP_ITERATIONS = 10**12  # so the wall clock is what stops it
    rendering.close()  # a worker with these limits
    try:
        first = _welcome(ann, system, key="m0")
        items = [{"key": f"m{i}", "customer": ann, "template_code": "welcome", "channel": "email",
                  "recipient": f"reader{i}@example.com"} for i in range(12)]
        items.append({"key": "slow", "customer": ann, "channel": "email", "recipient": "slow@example.com",
                      "parts": {"text": "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}"
                                        "{% endfor %}"}})
        items.append({"key": "nope", "customer": ann, "template_code": "no-such", "channel": "email"})
        items.append({"key": "m3", "customer": ann, "template_code": "welcome", "channel": "email"})  # twice
        answers = queue_letters(ann.brand, items, actor=system, at=clock.now())
    finally:
        rendering.close()
    assert answers[0].pk == first.pk and answers[3].pk == answers[-1].pk
    assert isinstance(answers[-2], ServiceError) and answers[-2].field == "template"
    slow = answers[-3]
    assert slow.state == "failed" and "longer than" in slow.error
    fresh = answers[1:12]
    assert all(letter.state == "queued" and letter.subject.startswith("Welcome") for letter in fresh)
    assert AuditEvent.objects.filter(action="letter_queue").count() == 13  # m0 .. m11 and the failed one
    assert send_due("email") == {"sent": 12, "failed": 0, "retry": 0}
    got = {mail["To"]: mail["Message-ID"] for mail in smtp.messages}
    assert len(smtp.messages) == 12 and got["reader5@example.com"] == "<alpha.m5@letters.telora.invalid>"
    assert set(Letter.objects.filter(state="sent").values_list("provider_ref", flat=True)) == set(got.values())


def test_sms_window_matches_answers_by_sequence_and_throttling_retries(ann, system, smsc, settings):
    settings.TELORA_SMPP = {**settings.TELORA_SMPP, "window": 2}  # fewer outstanding than the batch
    smsc.faults.throttle_every = 3
    letters = [queue_letter(ann.brand, actor=system, at=clock.now(), key=f"w{i}", customer=ann, channel="sms",
                            recipient=f"+31 6 2000 000{i}", parts={"text": f"message {i}"}) for i in range(7)]
    counts = send_due("sms")
    assert counts == {"sent": 5, "failed": 0, "retry": 2}
    accepted = {message.destination: message for message in smsc.messages}
    for letter in letters:
        letter.refresh_from_db()
        if letter.recipient in accepted:  # each answer went to the letter whose submission it answers
            assert letter.state in ("sent", "delivered") and letter.provider_ref == accepted[letter.recipient].message_id
            assert accepted[letter.recipient].text == letter.text
        else:
            assert letter.state == "queued" and letter.tries == 1 and "0x58" in letter.error and letter.next_try_at
    assert len(accepted) == 5


def test_the_mime_written_for_smtp_reads_back_as_sent():
    import email
    from email import policy

    from telora.letters.channels import Message, mime_bytes

    text = "Kære Søren,\n.a line with a leading dot\n" + "x=1 " * 40 + "\nbeløb: €1.50\n"
    pdf = bytes(range(256)) * 20
    raw = mime_bytes(Message(key="nordlink:event:7", recipient="soren@example.dk", subject="Velkommen, Søren – €",
                             text=text, html="<p>Kære <b>Søren</b></p>",
                             attachments=[("faktura-ø.pdf", pdf, "application/pdf")]),
                     "Nordlink Øst <letters@nordlink.example>")
    assert raw.isascii() and all(len(line) <= 998 for line in raw.split(b"\r\n"))
    mail = email.message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"] == "Velkommen, Søren – €" and mail["To"] == "soren@example.dk"
    assert mail["From"].addresses[0].display_name == "Nordlink Øst"
    assert mail["Message-ID"] == "<nordlink.event.7@letters.telora.invalid>"
    assert mail.get_body(("plain",)).get_content().replace("\r\n", "\n") == text
    assert mail.get_body(("html",)).get_content().strip() == "<p>Kære <b>Søren</b></p>"
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "faktura-ø.pdf" and attachment.get_content() == pdf


def test_a_key_queued_by_another_process_meanwhile_gives_that_letter(ann, system, monkeypatch):
    from telora.letters.services import outbox

    render = outbox.render_many
    other = {}

    def racing(tasks):  # another process queues "k2" after our lookup, before our insert
        if not other:
            other["letter"] = None
            other["letter"] = _welcome(ann, system, key="k2")
        return render(tasks)

    monkeypatch.setattr(outbox, "render_many", racing)
    first, second = outbox.queue_letters(ann.brand, [
        {"key": "k1", "customer": ann, "template_code": "welcome", "channel": "email"},
        {"key": "k2", "customer": ann, "template_code": "welcome", "channel": "email"}], actor=system, at=clock.now())
    assert second.pk == other["letter"].pk and first.pk != second.pk
    assert Letter.objects.filter(brand=ann.brand).count() == 2 and first.state == "queued"
