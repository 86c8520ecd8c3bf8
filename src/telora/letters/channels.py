"""Gateways behind one small interface, so an operator can plug its own provider by setting.

A channel gets a `Message` (what the outbox rendered) and returns a `Receipt` (the provider's
reference), or raises `Refused` (the gateway said no: the letter fails with its reason, no retry)
or `Unavailable` (try again later, with backoff). Settings (docs/letters.md, Gateways):

    TELORA_LETTER_CHANNELS = {"email": "telora.letters.channels.SmtpChannel",
                              "sms": "telora.letters.channels.SmppChannel"}
    EMAIL_HOST / EMAIL_PORT / EMAIL_USE_TLS (STARTTLS) / EMAIL_USE_SSL / EMAIL_HOST_USER /
    EMAIL_HOST_PASSWORD / EMAIL_TIMEOUT, TELORA_LETTER_FROM
    TELORA_SMPP = {"host", "port", "system_id", "password", "source_addr", "timeout"}

Print letters have no gateway: they wait in the print queue (services.printing).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.module_loading import import_string

from telora.letters.engine import sms_parts

DEFAULT_CHANNELS = {"email": "telora.letters.channels.SmtpChannel", "sms": "telora.letters.channels.SmppChannel"}


class Refused(Exception):
    """The gateway refused this message for good (bad address, rejected content): no retry."""


class Unavailable(Exception):
    """The gateway could not be reached or asked us to wait: try again later."""


@dataclass
class Message:
    key: str  # the letter's idempotency key: the e-mail's Message-ID, the SMS's reference
    recipient: str
    subject: str = ""
    text: str = ""
    html: str = ""
    attachments: list = field(default_factory=list)  # [(name, bytes, content type)]
    sender: str = ""


@dataclass
class Receipt:
    provider_ref: str
    detail: str = ""


class Channel:
    """The interface: send one message, or many (a gateway may pipeline them). A channel is made with
    keyword options it may ignore (`on_receipt` for gateways that report delivery)."""

    def __init__(self, **options):
        self.options = options

    def send(self, message: Message) -> Receipt:
        raise NotImplementedError

    def send_many(self, messages: list[Message]) -> list[Receipt | Exception]:
        results = []
        for message in messages:
            try:
                results.append(self.send(message))
            except (Refused, Unavailable) as exc:
                results.append(exc)
        return results

    def close(self) -> None:
        """Let go of connections kept between messages."""


def message_id(key: str) -> str:
    """The e-mail Message-ID of a letter: the same on every try, so a receiver can drop a duplicate."""
    domain = getattr(settings, "TELORA_LETTER_MESSAGE_DOMAIN", "letters.telora.invalid")
    return f"<{key.replace(':', '.')}@{domain}>"


class _SmtpConnection:
    """One SMTP session (Django's SMTP backend: STARTTLS and auth from the EMAIL_* settings), kept
    open across the messages handed to it."""

    def __init__(self, sender: str):
        self.connection = get_connection("django.core.mail.backends.smtp.EmailBackend", fail_silently=False)
        self.sender = sender

    def send(self, message: Message) -> Receipt:
        mail = EmailMultiAlternatives(message.subject, message.text, message.sender or self.sender,
                                      [message.recipient], connection=self.connection,
                                      headers={"Message-ID": message_id(message.key)})
        if message.html:
            mail.attach_alternative(message.html, "text/html")
        for name, content, content_type in message.attachments:
            mail.attach(name, content, content_type)
        try:
            self.connection.open()
            mail.send()
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise Unavailable(f"the mail server refused the login (EMAIL_HOST_USER, EMAIL_HOST_PASSWORD): "
                              f"{exc.smtp_code}") from None
        except smtplib.SMTPServerDisconnected as exc:
            self.close()
            hint = " (a refused login? check EMAIL_HOST_USER and EMAIL_HOST_PASSWORD)" if self.connection.username else ""
            raise Unavailable(f"the mail server closed the connection{hint}: {exc}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = "; ".join(f"{code} {reason.decode(errors='replace')}" for code, reason in exc.recipients.values())
            raise Refused(f"recipient refused: {codes}") from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            error = exc.smtp_error
            reason = f"{exc.smtp_code} {error.decode(errors='replace') if isinstance(error, bytes) else error}"
            if 500 <= exc.smtp_code < 600:
                raise Refused(f"the mail server refused the message: {reason}") from None
            raise Unavailable(f"the mail server asked to try later: {reason}") from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise Unavailable(f"mail server unreachable: {type(exc).__name__}: {exc}") from None
        return Receipt(message_id(message.key), "accepted by the mail server")

    def send_all(self, messages: list[Message]) -> list[Receipt | Exception]:
        results: list = []
        for message in messages:
            try:
                results.append(self.send(message))
            except (Refused, Unavailable) as exc:
                results.append(exc)
        return results

    def close(self) -> None:
        try:
            self.connection.close()
        except Exception:  # noqa: BLE001  (a half-dead connection: nothing left to close)
            pass


class SmtpChannel(Channel):
    """E-mail through Django's SMTP backend (STARTTLS and auth from the EMAIL_* settings).

    SMTP answers every command before the next (smtplib does not pipeline), so one connection spends
    most of its time waiting for the server. A batch is therefore spread over up to
    TELORA_SMTP_CONNECTIONS sessions (default 4) sending side by side, each kept open for the whole
    job; a batch smaller than two messages a session uses fewer."""

    PER_CONNECTION = 2

    def __init__(self, **options):
        self.sender = getattr(settings, "TELORA_LETTER_FROM", None) or settings.DEFAULT_FROM_EMAIL
        self.size = max(1, int(getattr(settings, "TELORA_SMTP_CONNECTIONS", 4) or 1))
        self.sessions: list[_SmtpConnection] = []

    def _sessions(self, count: int) -> list[_SmtpConnection]:
        while len(self.sessions) < count:
            self.sessions.append(_SmtpConnection(self.sender))
        return self.sessions[:count]

    def send(self, message: Message) -> Receipt:
        return self._sessions(1)[0].send(message)

    def send_many(self, messages: list[Message]) -> list[Receipt | Exception]:
        count = min(self.size, max(1, len(messages) // self.PER_CONNECTION))
        if count == 1:
            return self._sessions(1)[0].send_all(messages)
        from concurrent.futures import ThreadPoolExecutor

        sessions = self._sessions(count)
        slices = [messages[i::count] for i in range(count)]  # session i sends messages i, i+count, ...
        with ThreadPoolExecutor(max_workers=count, thread_name_prefix="smtp") as pool:
            answers = list(pool.map(lambda pair: pair[0].send_all(pair[1]), zip(sessions, slices, strict=True)))
        results: list = [None] * len(messages)
        for i, answer in enumerate(answers):
            results[i::count] = answer
        return results

    def close(self) -> None:
        for session in self.sessions:
            session.close()
        self.sessions = []


SMPP_ERRORS = {0x0B: "invalid destination address", 0x0A: "invalid source address", 0x58: "throttled",
               0x14: "message queue full", 0x45: "submit failed", 0x08: "system error", 0x61: "invalid scheduled time",
               0x62: "invalid validity period", 0x0D: "bind failed", 0x0E: "invalid password"}
SMPP_TRANSIENT = {0x58, 0x14, 0x08}


def smpp_settings() -> dict:
    values = {"host": "127.0.0.1", "port": 2775, "system_id": "telora", "password": "", "source_addr": "Telora",
              "timeout": 10}
    values.update(getattr(settings, "TELORA_SMPP", {}) or {})
    return values


class SmppChannel(Channel):
    """SMS through SMPP 3.4 (smpplib): bind_transceiver once per job, submit_sm with a delivery
    receipt asked for, long texts split with a concatenation UDH, GSM-7 or UCS-2 by content. The
    receipts that arrive while it works are handed to `on_receipt(message_id, stat, err)`."""

    def __init__(self, on_receipt=None, **options):
        self.config = smpp_settings()
        self.client = None
        self.on_receipt = on_receipt
        self._responses: dict[int, object] = {}

    def _connect(self):
        import smpplib.client
        import smpplib.exceptions

        if self.client is not None:
            return self.client
        client = smpplib.client.Client(self.config["host"], self.config["port"], timeout=self.config["timeout"],
                                       allow_unknown_opt_params=True)
        client.set_message_received_handler(self._received)
        client.set_message_sent_handler(lambda pdu, **kw: None)
        client.set_error_pdu_handler(lambda pdu: None)  # the submit's own status is read where it is awaited
        try:
            client.connect()
            client.bind_transceiver(system_id=self.config["system_id"], password=self.config["password"])
        except smpplib.exceptions.PDUError as exc:
            client.disconnect()
            raise Unavailable(f"the SMS centre refused the bind: {exc}") from None
        except (smpplib.exceptions.ConnectionError, OSError) as exc:
            raise Unavailable(f"SMS centre unreachable at {self.config['host']}:{self.config['port']}: "
                              f"{type(exc).__name__} {exc}") from None
        self.client = client
        return client

    def _received(self, pdu, **kwargs):
        text = getattr(pdu, "short_message", b"") or b""
        if self.on_receipt is not None and getattr(pdu, "esm_class", 0) & 0x04:
            receipt = parse_receipt(text.decode("latin-1"))
            if receipt:
                self.on_receipt(*receipt)

    def _await(self, sequences: set[int]) -> dict[int, object]:
        """Read PDUs until every submit_sm_resp of `sequences` is in (receipts are handled on the way)."""
        import smpplib.exceptions

        got = {}
        while sequences - got.keys():
            try:
                pdu = self.client.read_pdu()
            except (TimeoutError, smpplib.exceptions.ConnectionError, OSError) as exc:
                self.close()
                raise Unavailable(f"the SMS centre stopped answering: {type(exc).__name__} {exc}") from None
            if pdu.command == "submit_sm_resp":
                got[pdu.sequence] = pdu
            elif pdu.command == "deliver_sm":
                self.client._message_received(pdu)
            elif pdu.command == "enquire_link":
                self.client._enquire_link_received(pdu)
            elif pdu.command == "generic_nack":
                got[pdu.sequence] = pdu
        return got

    def _submit(self, message: Message) -> list[int]:
        from smpplib import consts

        coding, parts = sms_parts(message.text, reference=int(message.key.encode().hex()[-2:] or "0", 16))
        sequences = []
        for part in parts:
            pdu = self.client.send_message(
                source_addr_ton=consts.SMPP_TON_ALNUM, source_addr_npi=consts.SMPP_NPI_UNK,
                source_addr=message.sender or self.config["source_addr"],
                dest_addr_ton=consts.SMPP_TON_INTL, dest_addr_npi=consts.SMPP_NPI_ISDN,
                destination_addr=message.recipient, short_message=part, data_coding=coding,
                esm_class=consts.SMPP_GSMFEAT_UDHI if len(parts) > 1 else consts.SMPP_MSGTYPE_DEFAULT,
                registered_delivery=consts.SMPP_SMSC_DELIVERY_RECEIPT_BOTH)
            sequences.append(pdu.sequence)
        return sequences

    @staticmethod
    def _outcome(responses: list) -> Receipt | Exception:
        for response in responses:
            status = int(response.status)
            if status:
                reason = f"SMPP status 0x{status:02X} ({SMPP_ERRORS.get(status, 'refused')})"
                return Unavailable(reason) if status in SMPP_TRANSIENT else Refused(reason)
        ids = [r.message_id.decode() if isinstance(r.message_id, bytes) else str(r.message_id) for r in responses]
        return Receipt(",".join(ids), f"{len(ids)} part(s) accepted")

    def send_many(self, messages: list[Message]) -> list[Receipt | Exception]:
        """Submit every part of every message before reading the answers (a window of one batch)."""
        import smpplib.exceptions

        results: list = [None] * len(messages)
        self._connect()
        sent: list[tuple[int, list[int]]] = []
        for index, message in enumerate(messages):
            try:
                sent.append((index, self._submit(message)))
            except ValueError as exc:  # too many parts
                results[index] = Refused(str(exc))
            except (smpplib.exceptions.ConnectionError, OSError) as exc:
                self.close()
                for later in range(index, len(messages)):
                    results[later] = Unavailable(f"the SMS centre connection broke: {exc}")
                break
        if sent:
            try:
                answers = self._await({seq for _i, seqs in sent for seq in seqs})
            except Unavailable as exc:
                answers = None
                for index, _seqs in sent:
                    results[index] = exc
            if answers is not None:
                for index, seqs in sent:
                    results[index] = self._outcome([answers[s] for s in seqs])
        return results

    def send(self, message: Message) -> Receipt:
        result = self.send_many([message])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def listen(self, seconds: float) -> None:
        """Read receipts for up to `seconds` (each handed to on_receipt)."""
        import select
        import time

        self._connect()
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            readable, _w, _x = select.select([self.client._socket], [], [], left)
            if not readable:
                break
            self.client.read_once(auto_send_enquire_link=False)

    def close(self) -> None:
        if self.client is None:
            return
        try:
            self.client.poll()  # receipts already here are taken (and acknowledged) before we go
        except Exception:  # noqa: BLE001  (the connection broke: the SMSC keeps them for the next bind)
            pass
        try:
            self.client.unbind()
        except Exception:  # noqa: BLE001  (already gone)
            pass
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001
            pass
        self.client = None


def parse_receipt(text: str) -> tuple[str, str, str] | None:
    """(message id, stat, err) from an SMPP 3.4 appendix B receipt text ("id:... stat:DELIVRD err:000")."""
    fields = {}
    for token in text.replace("submit date", "submit_date").replace("done date", "done_date").split():
        if ":" in token:
            key, _, value = token.partition(":")
            fields[key.lower()] = value
    if "id" not in fields or "stat" not in fields:
        return None
    return fields["id"], fields["stat"].upper(), fields.get("err", "")


def channel_for(name: str, **options) -> Channel:
    """The configured channel class for "email" or "sms", instantiated."""
    configured = {**DEFAULT_CHANNELS, **(getattr(settings, "TELORA_LETTER_CHANNELS", {}) or {})}
    if name not in configured:
        raise ValueError(f"channel: no gateway for {name!r}")
    cls = import_string(configured[name])
    return cls(**options)


__all__ = ["Channel", "Message", "Receipt", "Refused", "SmppChannel", "SmtpChannel", "Unavailable", "channel_for",
           "message_id", "parse_receipt"]
