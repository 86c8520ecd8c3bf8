"""Letters: e-mails rendered and handed to a local SMTP server, SMS submitted to the SMPP simulator,
invoices delivered by e-mail with their PDF attached.

Both gateways run as separate processes started here (aiosmtpd with its Sink handler; Telora's SMSC
simulator), as in the demo. Each figure is the median of ROUNDS rounds. "queued" is queue_letters in
chunks of CHUNK, as the letters consumer queues a batch of events: the keys looked up, the renders
done in the sandbox worker in one round trip per 200, the letters and their audit events inserted in
one statement each. "sent" is the sending job (send_due: claim with SKIP LOCKED, hand over, record
in one UPDATE per batch): e-mail over TELORA_SMTP_CONNECTIONS sessions, SMS pipelined on one bind.
The end-to-end figure is letters / (queue + send) seconds (targets: 300 e-mails/s, 1,000 SMS/s).

Baselines, measured in the same run against the same servers: the same messages pushed through the
same client library with no outbox (smtplib on one connection; smpplib submit_sm one by one, waiting
for each answer); and the ceilings: Telora's own channels alone on the same messages, no database
(what the gateways and the channel code allow; the outbox can only come below it). Invoice delivery: the PDFs are the production run's (rendered before the timing,
as the run does); the figure is the invoice letters queued with the PDF attached and sent.

Run alone: python bench/run.py letters
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import tempfile
import time

from run import Timer

EMAILS = 1000
SMS = 3000
INVOICES = 100
ROUNDS = 3
CHUNK = 500


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def _context(i: int, brand) -> dict:
    return {"brand": {"name": brand.name, "code": brand.code, "language": "en"},
            "customer": {"number": f"C{i:07d}", "name": f"Customer {i}", "first_name": f"First{i}",
                         "last_name": "Bench", "company_name": "", "email": f"c{i}@example.com",
                         "phone": f"+3161{i:07d}", "language": "en"},
            "address": {"name": "", "lines": []}, "account": {"number": f"A{i:07d}", "name": ""},
            "subscription": {"identifier": f"3161{i:07d}", "service_type": "mobile_prepaid", "plan": ""},
            "invoice": {"number": f"INV-{i:06d}", "total": "24.20", "currency": "EUR", "issue_date": "2026-11-01",
                        "due_date": "2026-11-15", "period_start": "2026-10-01", "period_end": "2026-11-01"},
            "balance": {"amount": "1.50", "threshold": "2.00", "currency": "EUR"},
            "event": {"type": "balance.low", "at": "", "payload": {}}, "today": "2026-11-03"}


def _median(values: list[float]) -> float:
    return statistics.median(values)


def run(report) -> None:
    import smtplib
    from email.message import EmailMessage

    import smpplib.client
    from django.conf import settings
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from smpplib import consts

    from telora.core import clock
    from telora.core.services import Actor
    from telora.core.services.brands import create_brand
    from telora.letters.channels import Message, Receipt, SmppChannel, SmtpChannel
    from telora.letters.engine import sms_parts
    from telora.letters.models import Letter
    from telora.letters.services.defaults import install_defaults
    from telora.letters.services.outbox import queue_letters, send_due

    media = tempfile.TemporaryDirectory()
    settings.MEDIA_ROOT = media.name
    system = Actor.system("bench")
    brand = create_brand(actor=system, at=clock.now(), code="bench", name="Bench Mobile", currency="EUR",
                         timezone="Europe/Amsterdam", country="NL")
    install_defaults(brand, actor=system, at=clock.now())

    def queue(prefix: str, count: int, template: str, channel: str, recipient, attachments=None) -> float:
        with Timer() as t:
            for start in range(0, count, CHUNK):
                answers = queue_letters(brand, [
                    {"key": f"{prefix}{i}", "template_code": template, "channel": channel, "recipient": recipient(i),
                     "context": _context(i, brand), "attachments": attachments(i) if attachments else None}
                    for i in range(start, min(count, start + CHUNK))], actor=system, at=clock.now())
                assert all(isinstance(a, Letter) and a.state == "queued" for a in answers), answers[:3]
        return t.seconds

    def send(channel: str, count: int) -> float:
        with Timer() as t:
            counts = send_due(channel, limit=500)
        assert counts["sent"] == count, counts
        return t.seconds

    smtp_port, smpp_port = _free_port(), _free_port()
    servers = [
        subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l",
                          f"127.0.0.1:{smtp_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-m", "telora.letters.smsc_simulator", "--port", str(smpp_port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        _wait(smtp_port)
        _wait(smpp_port)
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", smtp_port, False
        settings.TELORA_SMPP = {"host": "127.0.0.1", "port": smpp_port, "system_id": "bench", "password": "",
                                "source_addr": "Bench", "timeout": 10}
        connections = getattr(settings, "TELORA_SMTP_CONNECTIONS", 4)

        # -- e-mail ------------------------------------------------------------------------------
        queued, sent, raw, bare = [], [], [], []
        for n in range(ROUNDS):
            queued.append(queue(f"e{n}:", EMAILS, "welcome", "email", lambda i: f"c{i}@example.com"))
            sent.append(send("email", EMAILS))
            letters = list(Letter.objects.filter(channel="email", idempotency_key__startswith=f"e{n}:")
                           .values_list("recipient", "subject", "text", "html"))
            with Timer() as t, smtplib.SMTP("127.0.0.1", smtp_port) as client:
                for recipient, subject, text, html in letters:
                    message = EmailMessage()
                    message["From"], message["To"], message["Subject"] = "bench@example.com", recipient, subject
                    message.set_content(text)
                    message.add_alternative(html, subtype="html")
                    client.send_message(message)
            raw.append(t.seconds)
            messages = [Message(key=f"bench:bare{n}:{i}", recipient=r, subject=su, text=te, html=h)
                        for i, (r, su, te, h) in enumerate(letters)]
            gateway = SmtpChannel()
            with Timer() as t:
                assert all(isinstance(r, Receipt) for r in gateway.send_many(messages))
            gateway.close()
            bare.append(t.seconds)
        size = len(Letter.objects.filter(channel="email").first().text)
        report.figure("e-mails queued (render, row, audit; bulk)", EMAILS / _median(queued), "letters/s",
                      f"{EMAILS:,} welcome e-mails, text+HTML, ~{size} chars, median of {ROUNDS}")
        report.figure("e-mails sent to local SMTP (sending job)", EMAILS / _median(sent), "letters/s",
                      f"aiosmtpd Sink in its own process, {connections} sessions")
        email_rate = _median([EMAILS / (q + s) for q, s in zip(queued, sent, strict=True)])
        report.figure("e-mails rendered and handed over, end to end", email_rate, "letters/s", "target >= 300/s")
        baseline = EMAILS / _median(raw)
        report.figure("baseline: smtplib alone, one connection", baseline, "mails/s",
                      f"ratio end-to-end/baseline {email_rate / baseline:.2f}")
        ceiling = EMAILS / _median(bare)
        report.figure("ceiling: the SMTP channel alone, no outbox", ceiling, "mails/s",
                      f"{connections} sessions, MIME built; ratio end-to-end/ceiling {email_rate / ceiling:.2f}")

        # -- SMS ---------------------------------------------------------------------------------
        queued, sent, raw, bare = [], [], [], []
        for n in range(ROUNDS):
            queued.append(queue(f"s{n}:", SMS, "balance-low", "sms", lambda i: f"+316{10000000 + i}"))
            sent.append(send("sms", SMS))
            texts = list(Letter.objects.filter(channel="sms", idempotency_key__startswith=f"s{n}:")
                         .values_list("recipient", "text"))
            client = smpplib.client.Client("127.0.0.1", smpp_port, allow_unknown_opt_params=True)
            client.connect()
            client.bind_transmitter(system_id="baseline", password="")
            with Timer() as t:
                for recipient, text in texts:
                    coding, parts = sms_parts(text)
                    client.send_message(source_addr_ton=consts.SMPP_TON_ALNUM, source_addr="Bench",
                                        dest_addr_ton=consts.SMPP_TON_INTL, destination_addr=recipient,
                                        short_message=parts[0], data_coding=coding)
                    client.read_pdu()
            client.unbind()
            client.disconnect()
            raw.append(t.seconds)
            gateway = SmppChannel()
            messages = [Message(key=f"bench:bare{n}:{i}", recipient=r, text=te) for i, (r, te) in enumerate(texts)]
            with Timer() as t:
                assert all(isinstance(r, Receipt) for r in gateway.send_many(messages))
            gateway.close()
            bare.append(t.seconds)
        size = len(Letter.objects.filter(channel="sms").first().text)
        report.figure("SMS queued (render, row, audit; bulk)", SMS / _median(queued), "letters/s",
                      f"{SMS:,} low-balance SMS, {size} chars, 1 part GSM-7, median of {ROUNDS}")
        report.figure("SMS submitted to the SMSC simulator (job)", SMS / _median(sent), "letters/s",
                      f"one bind, batches of 500, window {SmppChannel.WINDOW}, receipts asked")
        sms_rate = _median([SMS / (q + s) for q, s in zip(queued, sent, strict=True)])
        report.figure("SMS rendered and submitted, end to end", sms_rate, "letters/s", "target >= 1,000/s")
        baseline = SMS / _median(raw)
        report.figure("baseline: smpplib alone, one by one", baseline, "SMS/s",
                      f"ratio end-to-end/baseline {sms_rate / baseline:.2f}")
        ceiling = SMS / _median(bare)
        report.figure("ceiling: the SMPP channel alone, no outbox", ceiling, "SMS/s",
                      f"window {SmppChannel.WINDOW}, receipts read; ratio end-to-end/ceiling {sms_rate / ceiling:.2f}")

        # -- invoices with their PDF -------------------------------------------------------------
        from telora.billing.documents.pdf import render_pdf
        from telora.billing.documents.sample import generated_document

        paths = [default_storage.save(f"bench/invoice-{i}.pdf", ContentFile(render_pdf(generated_document(i))))
                 for i in range(INVOICES)]  # the production run's PDFs (not timed)
        pdf_size = default_storage.size(paths[0])
        delivered = []
        for n in range(ROUNDS):
            with Timer() as t:
                queue(f"i{n}:", INVOICES, "invoice", "email", lambda i: f"c{i}@example.com",
                      attachments=lambda i: [{"name": f"INV-{i:06d}.pdf", "path": paths[i],
                                              "content_type": "application/pdf"}])
                send("email", INVOICES)
            delivered.append(t.seconds)
        report.figure("invoices delivered by e-mail with PDF", INVOICES / _median(delivered), "invoices/s",
                      f"{INVOICES} invoices, PDF ~{pdf_size // 1024} KB attached, queued and sent, median of "
                      f"{ROUNDS}")
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
        media.cleanup()
