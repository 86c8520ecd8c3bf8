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

import base64
import binascii
import secrets
import smtplib
from dataclasses import dataclass, field
from email.header import Header
from email.utils import encode_rfc2231, formataddr, formatdate, parseaddr

from django.conf import settings
from django.core.mail import get_connection
from django.utils.module_loading import import_string

from telora.letters import smpp_wire
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


def _header(value: str) -> str:
    """A header value as ASCII: as it is, else RFC 2047 encoded words (UTF-8)."""
    value = " ".join(value.split())  # no line breaks in a header
    return value if value.isascii() else Header(value, "utf-8").encode()


def _address(value: str) -> str:
    name, address = parseaddr(value)
    return value if value.isascii() else formataddr((name, address), charset="utf-8")


def _text_part(subtype: str, text: str) -> bytes:
    body = binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
    return (f"Content-Type: text/{subtype}; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable"
            f"\r\n\r\n").encode() + body


def _attachment_part(name: str, content: bytes, content_type: str) -> bytes:
    filename = f'filename="{name}"' if name.isascii() and '"' not in name else \
        f"filename*={encode_rfc2231(name, 'utf-8')}"
    return (f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: base64\r\n"
            f"Content-Disposition: attachment; {filename}\r\n\r\n").encode() + \
        base64.encodebytes(content).replace(b"\n", b"\r\n")


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    boundary = f"=_telora_{secrets.token_hex(12)}"  # "=_" never occurs in base64 or quoted-printable
    between = f"\r\n--{boundary}\r\n".encode()
    return (f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n--{boundary}\r\n'.encode()
            + between.join(parts) + f"\r\n--{boundary}--\r\n".encode())


def mime_bytes(message: Message, sender: str) -> bytes:
    """The e-mail as it goes over SMTP: text (and HTML) parts in quoted-printable, attachments in
    base64, Message-ID from the letter's key. Built as bytes directly: the `email` package's
    generator cost more per message than the SMTP exchange on a local relay."""
    body = _text_part("plain", message.text)
    if message.html:
        body = _multipart("alternative", [body, _text_part("html", message.html)])
    if message.attachments:
        body = _multipart("mixed", [body, *(_attachment_part(*item) for item in message.attachments)])
    headers = (f"From: {_address(sender)}\r\nTo: {_address(message.recipient)}\r\n"
               f"Subject: {_header(message.subject)}\r\nDate: {formatdate(localtime=False)}\r\n"
               f"Message-ID: {message_id(message.key)}\r\nMIME-Version: 1.0\r\n")
    return headers.encode() + body


class _SmtpConnection:
    """One SMTP session (Django's SMTP backend opens it: STARTTLS and auth from the EMAIL_*
    settings), kept open across the messages handed to it, each written as `mime_bytes`."""

    def __init__(self, sender: str):
        self.connection = get_connection("django.core.mail.backends.smtp.EmailBackend", fail_silently=False)
        self.sender = sender

    def send(self, message: Message) -> Receipt:
        sender = message.sender or self.sender
        try:
            self.connection.open()
            self.connection.connection.sendmail(parseaddr(sender)[1], [message.recipient],
                                                mime_bytes(message, sender))
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
    """SMS through SMPP 3.4: bind_transceiver once per job (smpplib), submit_sm with a delivery
    receipt asked for, long texts split with a concatenation UDH, GSM-7 or UCS-2 by content. The
    receipts that arrive while it works are handed to `on_receipt(message_id, stat, err)`.

    A batch is submitted with a window, as SMSCs impose one: up to `window` submissions
    (TELORA_SMPP["window"], default WINDOW) are outstanding at once, and the answers (submit_sm_resp
    matched to its message by sequence number), delivery receipts (acknowledged at once) and
    enquire_links are read while submitting, so neither side waits on a full socket buffer. The PDUs
    of that loop are packed and parsed by `smpp_wire` (smpplib's generic PDU tables cost more than
    the rest of sending an SMS); bind, unbind and the receipt listener are smpplib's."""

    WINDOW = 200

    def __init__(self, on_receipt=None, **options):
        self.config = smpp_settings()
        self.client = None
        self.on_receipt = on_receipt
        self.window = max(1, int(self.config.get("window") or self.WINDOW))
        self._inbox = bytearray()
        self._outbox = bytearray()

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
        self._inbox.clear()
        self._outbox.clear()
        return client

    def _received(self, pdu, **kwargs):
        text = getattr(pdu, "short_message", b"") or b""
        if self.on_receipt is not None and getattr(pdu, "esm_class", 0) & 0x04:
            receipt = parse_receipt(text.decode("latin-1"))
            if receipt:
                self.on_receipt(*receipt)

    def _pdus(self, index: int, message: Message) -> list[tuple[int, int, bytes]]:
        """(sequence, message index, submit_sm bytes) for each part of `message`."""
        from smpplib import consts

        coding, parts = sms_parts(message.text, reference=int(message.key.encode().hex()[-2:] or "0", 16))
        esm_class = consts.SMPP_GSMFEAT_UDHI if len(parts) > 1 else consts.SMPP_MSGTYPE_DEFAULT
        source = message.sender or self.config["source_addr"]
        return [(sequence, index, smpp_wire.submit_sm(
            sequence, source=source, source_ton=consts.SMPP_TON_ALNUM, source_npi=consts.SMPP_NPI_UNK,
            destination=message.recipient, dest_ton=consts.SMPP_TON_INTL, dest_npi=consts.SMPP_NPI_ISDN,
            esm_class=esm_class, registered_delivery=consts.SMPP_SMSC_DELIVERY_RECEIPT_BOTH, data_coding=coding,
            short_message=part)) for part, sequence in ((part, self.client.next_sequence()) for part in parts)]

    def _handle(self, command: int, status: int, sequence: int, body: bytes, answers: dict) -> None:
        """One PDU read from the SMSC: an answer to a submission goes into `answers` by sequence; a
        receipt is handed on and acknowledged, an enquire_link answered."""
        if command == smpp_wire.SUBMIT_SM_RESP:
            answers[sequence] = (status, body.split(b"\0", 1)[0].decode("latin-1"))
        elif command == smpp_wire.GENERIC_NACK:
            answers[sequence] = (status or 0x08, "")
        elif command == smpp_wire.DELIVER_SM:
            try:
                fields = smpp_wire.parse_sm(body)
            except (ValueError, IndexError):
                fields = {"esm_class": 0}
            if self.on_receipt is not None and fields["esm_class"] & 0x04:
                receipt = parse_receipt(fields["short_message"].decode("latin-1"))
                if receipt:
                    self.on_receipt(*receipt)
            self._outbox += smpp_wire.pdu(smpp_wire.DELIVER_SM_RESP, 0, sequence, b"\0")
        elif command == smpp_wire.ENQUIRE_LINK:
            self._outbox += smpp_wire.pdu(smpp_wire.ENQUIRE_LINK_RESP, 0, sequence)

    def _pump(self, timeout: float, answers: dict) -> bool:
        """Write what is waiting and read what has come, waiting at most `timeout` seconds for either;
        False when nothing moved in that time. OSError or ValueError when the connection broke."""
        import select

        sock = self.client._socket
        readable, writable, _x = select.select([sock], [sock] if self._outbox else [], [], timeout)
        if writable:
            sent = sock.send(self._outbox)
            del self._outbox[:sent]
        if readable:
            data = sock.recv(262_144)
            if not data:
                raise ConnectionError("the SMS centre closed the connection")
            self._inbox += data
            for command, status, sequence, body in smpp_wire.split(self._inbox):
                self._handle(command, status, sequence, body, answers)
        return bool(readable or writable)

    @staticmethod
    def _outcome(responses: list[tuple[int, str]]) -> Receipt | Exception:
        for status, _id in responses:
            if status:
                reason = f"SMPP status 0x{status:02X} ({SMPP_ERRORS.get(status, 'refused')})"
                return Unavailable(reason) if status in SMPP_TRANSIENT else Refused(reason)
        ids = [message_id for _status, message_id in responses]
        return Receipt(",".join(ids), f"{len(ids)} part(s) accepted")

    def send_many(self, messages: list[Message]) -> list[Receipt | Exception]:
        """Submit every part of every message through the window, reading answers on the way."""
        import time

        results: list = [None] * len(messages)
        self._connect()
        pdus: list[tuple[int, int, bytes]] = []
        sequences: dict[int, list[int]] = {}
        for index, message in enumerate(messages):
            try:
                parts = self._pdus(index, message)
            except ValueError as exc:  # too many parts
                results[index] = Refused(str(exc))
                continue
            pdus.extend(parts)
            sequences[index] = [sequence for sequence, _i, _b in parts]
        answers: dict[int, tuple[int, str]] = {}
        cursor, timeout = 0, float(self.config["timeout"])
        quiet_since = time.monotonic()
        try:
            while cursor < len(pdus) or len(answers) < cursor:
                while cursor < len(pdus) and cursor - len(answers) < self.window:
                    self._outbox += pdus[cursor][2]
                    cursor += 1
                if self._pump(min(timeout, 1.0), answers):
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since > timeout:
                    raise TimeoutError(f"no answer for {timeout:.0f} s")
        except (OSError, ValueError) as exc:
            self.close(drain=False)
            failure = Unavailable(f"the SMS centre stopped answering: {type(exc).__name__} {exc}")
            for index, seqs in sequences.items():
                if not all(s in answers for s in seqs):
                    results[index] = failure
        for index, seqs in sequences.items():
            if results[index] is None:
                results[index] = self._outcome([answers[s] for s in seqs])
        return results

    def send(self, message: Message) -> Receipt:
        result = self.send_many([message])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def listen(self, seconds: float) -> None:
        """Read receipts for up to `seconds` (each handed to on_receipt and acknowledged)."""
        import time

        self._connect()
        deadline = time.monotonic() + seconds
        try:
            while (left := deadline - time.monotonic()) > 0:
                if not self._pump(left, {}) and not self._outbox:
                    break
        except (OSError, ValueError):
            self.close(drain=False)

    def close(self, drain: bool = True) -> None:
        if self.client is None:
            return
        try:
            while drain and self._pump(0, {}):  # receipts already here are taken (and acknowledged)
                pass
            if drain and self._outbox:
                self.client._socket.sendall(self._outbox)
        except Exception:  # noqa: BLE001  (the connection broke: the SMSC keeps them for the next bind)
            drain = False
        if drain:
            try:
                self.client.unbind()
            except Exception:  # noqa: BLE001  (already gone)
                pass
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001
            pass
        self.client = None
        self._outbox.clear()
        self._inbox.clear()


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
