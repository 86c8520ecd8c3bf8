"""Letters: e-mails rendered and handed to a local SMTP server, SMS submitted to the SMPP simulator.

Both gateways run as separate processes started here (aiosmtpd with its Sink handler; Telora's SMSC
simulator), as in the demo. "queued" is render + outbox row + audit per letter (queue_letter);
"sent" is the sending job (send_due: claim, hand over, record) on one connection; the end-to-end
figure is letters / (queue + send) seconds (targets: 300 e-mails/s, 1,000 SMS/s). The baseline is
the same messages pushed through the same client library with no outbox (smtplib on one connection,
smpplib submit_sm one by one), measured in the same run.

Run alone: python bench/run.py letters
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

from run import Timer

EMAILS = 1000
SMS = 3000


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
            "invoice": {"number": "", "total": "", "currency": "EUR", "issue_date": "", "due_date": "",
                        "period_start": "", "period_end": ""},
            "balance": {"amount": "1.50", "threshold": "2.00", "currency": "EUR"},
            "event": {"type": "balance.low", "at": "", "payload": {}}, "today": "2026-11-03"}


def run(report) -> None:
    import smtplib
    from email.message import EmailMessage

    import smpplib.client
    from django.conf import settings
    from smpplib import consts

    from telora.core import clock
    from telora.core.services import Actor
    from telora.core.services.brands import create_brand
    from telora.letters.engine import sms_parts
    from telora.letters.models import Letter
    from telora.letters.services.defaults import install_defaults
    from telora.letters.services.outbox import queue_letter, send_due

    system = Actor.system("bench")
    brand = create_brand(actor=system, at=clock.now(), code="bench", name="Bench Mobile", currency="EUR",
                         timezone="Europe/Amsterdam", country="NL")
    install_defaults(brand, actor=system, at=clock.now())

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

        # -- e-mail ------------------------------------------------------------------------------
        with Timer() as queued:
            for i in range(EMAILS):
                queue_letter(brand, actor=system, at=clock.now(), key=f"e{i}", template_code="welcome",
                             channel="email", recipient=f"c{i}@example.com", context=_context(i, brand))
        with Timer() as sent:
            counts = send_due("email", limit=500)
        assert counts["sent"] == EMAILS, counts
        size = len(Letter.objects.filter(channel="email").first().text)
        report.figure("e-mails queued (rendered, outbox row, audit)", EMAILS / queued.seconds, "letters/s",
                      f"{EMAILS:,} welcome e-mails, text+HTML, ~{size} chars")
        report.figure("e-mails sent to local SMTP (sending job)", EMAILS / sent.seconds, "letters/s",
                      "aiosmtpd Sink in its own process, one connection")
        email_rate = EMAILS / (queued.seconds + sent.seconds)
        report.figure("e-mails rendered and handed over, end to end", email_rate, "letters/s", "target >= 300/s")
        letters = list(Letter.objects.filter(channel="email").values_list("recipient", "subject", "text", "html"))
        with Timer() as raw, smtplib.SMTP("127.0.0.1", smtp_port) as client:
            for recipient, subject, text, html in letters:
                message = EmailMessage()
                message["From"], message["To"], message["Subject"] = "bench@example.com", recipient, subject
                message.set_content(text)
                message.add_alternative(html, subtype="html")
                client.send_message(message)
        baseline = EMAILS / raw.seconds
        report.figure("baseline: smtplib alone, same messages", baseline, "mails/s",
                      f"ratio end-to-end/baseline {email_rate / baseline:.2f}")

        # -- SMS ---------------------------------------------------------------------------------
        with Timer() as queued:
            for i in range(SMS):
                queue_letter(brand, actor=system, at=clock.now(), key=f"s{i}", template_code="balance-low",
                             channel="sms", recipient=f"+316{10000000 + i}", context=_context(i, brand))
        with Timer() as sent:
            counts = send_due("sms", limit=500)
        assert counts["sent"] == SMS, counts
        size = len(Letter.objects.filter(channel="sms").first().text)
        report.figure("SMS queued (rendered, outbox row, audit)", SMS / queued.seconds, "letters/s",
                      f"{SMS:,} low-balance SMS, {size} chars, 1 part GSM-7")
        report.figure("SMS submitted to the SMSC simulator (job)", SMS / sent.seconds, "letters/s",
                      "submit_sm pipelined 500 per window, receipts asked")
        sms_rate = SMS / (queued.seconds + sent.seconds)
        report.figure("SMS rendered and submitted, end to end", sms_rate, "letters/s", "target >= 1,000/s")
        texts = list(Letter.objects.filter(channel="sms").values_list("recipient", "text"))
        client = smpplib.client.Client("127.0.0.1", smpp_port, allow_unknown_opt_params=True)
        client.connect()
        client.bind_transmitter(system_id="baseline", password="")
        with Timer() as raw:
            for recipient, text in texts:
                coding, parts = sms_parts(text)
                client.send_message(source_addr_ton=consts.SMPP_TON_ALNUM, source_addr="Bench",
                                    dest_addr_ton=consts.SMPP_TON_INTL, destination_addr=recipient,
                                    short_message=parts[0], data_coding=coding)
                client.read_pdu()
        client.unbind()
        client.disconnect()
        baseline = SMS / raw.seconds
        report.figure("baseline: smpplib alone, one by one", baseline, "SMS/s",
                      f"ratio end-to-end/baseline {sms_rate / baseline:.2f}")
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
