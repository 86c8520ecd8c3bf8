"""The adapter interface between Telora and a porting clearing house, and the `portsim_json` adapter.

An adapter turns one outgoing message (submit a port-in, answer a port-out, cancel, complete) into the
clearing house's protocol and its answer into a `Sent`; it reads the clearing house's signed callbacks
into a `Received`. It does no database writes: the services record the messages, move the requests and
tell the flows, so every adapter gets idempotency, retries, logging and masking the same way. Writing
one for a real clearing house is described in docs/porting.md.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from telora.core.signed_callbacks import SignatureError, read_signed_json  # noqa: F401  (SignatureError: re-exported)

SECRET_KEYS = re.compile(r"^(pin|puk|account_number|id_number|authori[sz]ation|api_?key|.*(secret|password|token).*)$",
                         re.I)
MASK = "***"
SIGNATURE_HEADER, TIMESTAMP_HEADER = "X-Portsim-Signature", "X-Portsim-Timestamp"
KINDS = ("submit", "answer", "cancel", "complete")


@dataclass
class Sent:
    """What one try of an outgoing message came to.

    kind: "ok" (taken), "transient" (no answer, 5xx, 408, 429: the same message again later, same key),
    "rejected" (refused for good: `code` and `message` say why)."""

    kind: str
    correlation_id: str = ""
    code: str = ""
    message: str = ""
    answer: dict = field(default_factory=dict)
    url: str = ""
    request_headers: dict = field(default_factory=dict)
    request_body: str = ""
    status_code: int | None = None
    response_body: str = ""
    duration_ms: int = 0


@dataclass
class Received:
    """A callback read: its event (port_answer, port_out_request, port_completed, port_cancelled) and
    what it says."""

    event: str
    correlation_id: str = ""
    idempotency_key: str = ""
    status: str = ""
    code: str = ""
    message: str = ""
    number: str = ""
    donor: str = ""
    recipient: str = ""
    authorisation: dict = field(default_factory=dict)
    requested_date: str = ""
    window_start: str = ""


class Adapter:
    """The interface: `send(kind, message, clearing_house, credentials)` makes one try of an outgoing
    message; `read_callback(headers, body, credentials, now=)` checks and reads a callback."""

    kind = ""

    def send(self, kind: str, message: dict, clearing_house, credentials: dict, *, idempotency_key: str) -> Sent:
        raise NotImplementedError

    def read_callback(self, headers: dict, body: bytes, credentials: dict, *, now: float) -> Received:
        raise NotImplementedError


class PortsimJsonAdapter(Adapter):
    """A clearing house over HTTPS/JSON with HMAC-signed callbacks: the protocol `telora portsim`
    speaks (docs/porting.md has the contract)."""

    kind = "portsim_json"

    def _path(self, kind: str, message: dict) -> str:
        if kind == "submit":
            return "/v1/ports"
        return f"/v1/ports/{message.get('correlation_id', '')}/{kind}"

    def send(self, kind, message, clearing_house, credentials, *, idempotency_key):
        url = clearing_house.url.rstrip("/") + self._path(kind, message)
        body = json.dumps({**message, "idempotency_key": idempotency_key}).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key,
                   "Authorization": f"Bearer {credentials.get('api_key', '')}"}
        sent = Sent("transient", url=url, request_headers=headers, request_body=body.decode())
        started = time.monotonic()
        try:
            wire = urllib.request.Request(url, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(wire, timeout=clearing_house.timeout_seconds) as answer:  # noqa: S310
                sent.status_code, sent.response_body = answer.status, answer.read(64_000).decode(errors="replace")
        except urllib.error.HTTPError as exc:
            sent.status_code, sent.response_body = exc.code, exc.read(64_000).decode(errors="replace")
        except (urllib.error.URLError, OSError) as exc:
            sent.code, sent.message = "unreachable", str(getattr(exc, "reason", exc))[:500]
        sent.duration_ms = int((time.monotonic() - started) * 1000)
        if sent.status_code is None:
            return sent
        try:
            answer = json.loads(sent.response_body or "{}")
        except ValueError:
            answer = {}
        answer = answer if isinstance(answer, dict) else {}
        sent.answer = answer
        sent.correlation_id = str(answer.get("correlation_id") or "")[:64]
        status = sent.status_code
        if status in (200, 201, 202):
            sent.kind = "ok"
        elif status in (408, 429) or status >= 500:
            sent.kind, sent.code, sent.message = "transient", f"http_{status}", f"the clearing house answered {status}"
        else:
            error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
            sent.kind = "rejected"
            sent.code = str(error.get("code") or f"http_{status}")[:40]
            sent.message = str(error.get("message") or f"the clearing house answered {status}")[:500]
        return sent

    def read_callback(self, headers, body, credentials, *, now):
        data = read_signed_json(headers, body, credentials.get("callback_secret", ""), now=now,
                                timestamp_header=TIMESTAMP_HEADER, signature_header=SIGNATURE_HEADER)
        auth = data.get("authorisation") if isinstance(data.get("authorisation"), dict) else {}
        return Received(event=str(data.get("event") or ""), correlation_id=str(data.get("correlation_id") or "")[:64],
                        idempotency_key=str(data.get("idempotency_key") or "")[:120],
                        status=str(data.get("status") or ""), code=str(data.get("code") or "")[:40],
                        message=str(data.get("message") or "")[:500], number=str(data.get("number") or "")[:20],
                        donor=str(data.get("donor") or "")[:16], recipient=str(data.get("recipient") or "")[:16],
                        authorisation={str(k)[:40]: str(v)[:80] for k, v in list(auth.items())[:10]},
                        requested_date=str(data.get("requested_date") or "")[:10],
                        window_start=str(data.get("window_start") or "")[:40])


ADAPTERS: dict[str, Adapter] = {"portsim_json": PortsimJsonAdapter()}


def register_adapter(adapter: Adapter) -> None:
    """A real clearing house's adapter (SOAP with zeep, SFTP files, …) plugs in here under its `kind`."""
    ADAPTERS[adapter.kind] = adapter


def get_adapter(kind: str) -> Adapter:
    return ADAPTERS[kind]


def mask(value):
    """A copy of a JSON-like value with the authorisation data and keys replaced."""
    if isinstance(value, dict):
        return {k: MASK if SECRET_KEYS.match(str(k)) and v not in ("", None, {}) else mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def mask_text(text: str) -> str:
    try:
        return json.dumps(mask(json.loads(text)))
    except ValueError:
        return text
