"""The adapter interface between Telora and a network, and the adapters shipped.

An adapter turns a `ProvisioningRequest` into the target's protocol and the target's answers into an
`Outcome`. It does no database writes: the services record exchanges and states, so every adapter
gets retries, idempotency, logging and masking the same way. Writing one for another operator is
described in docs/provisioning.md.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from telora.core.signed_callbacks import SignatureError, read_signed_json  # noqa: F401  (SignatureError: re-exported)
from telora.provisioning import wire

SECRET_KEYS = re.compile(r"^(pin\d?|puk\d?|ki|opc|api_?key|authori[sz]ation|credentials?|.*(secret|password|token).*)$",
                         re.I)
MASK = "***"
SIGNATURE_HEADER, TIMESTAMP_HEADER = "X-Netsim-Signature", "X-Netsim-Timestamp"


@dataclass
class Outcome:
    """What one try came to.

    kind: "completed" (done now), "accepted" (the target took it; a callback says how it ended),
    "transient" (not taken: time-out, 5xx, connection refused: try again with the same key),
    "rejected" (a business refusal: permanent, `code` says why), "waiting" (a person does it: manual).
    """

    kind: str
    correlation_id: str = ""
    code: str = ""
    message: str = ""
    result: dict = field(default_factory=dict)
    # the exchange as it went on the wire, for the log (the services mask secrets before storing)
    url: str = ""
    request_headers: dict = field(default_factory=dict)
    request_body: str = ""
    status_code: int | None = None
    response_body: str = ""
    duration_ms: int = 0


@dataclass
class CallbackResult:
    """A callback read: which request (by idempotency key or correlation id) and its new state."""

    idempotency_key: str
    correlation_id: str
    state: str  # acknowledged, completed, failed
    code: str = ""
    message: str = ""
    result: dict = field(default_factory=dict)
    sequence: int = 0


class Adapter:
    """The interface. `send(request, credentials)` makes one try; `handle_callback(headers, body,
    credentials)` checks and reads an asynchronous answer (SignatureError if it is not the target's)."""

    kind = ""
    asynchronous = False

    def send(self, request, credentials: dict) -> Outcome:
        raise NotImplementedError

    def handle_callback(self, headers: dict, body: bytes, credentials: dict, *, now: float) -> CallbackResult:
        raise SignatureError(f"the {self.kind} adapter takes no callbacks")

    # Optional: an adapter that can ask the target (None: it cannot; polling and reconciliation skip it)

    def poll(self, request, credentials: dict) -> Outcome | None:
        """The target's word on an acknowledged request whose callback did not come: an Outcome of kind
        "completed", "rejected" (it failed), "accepted" (still in progress), "unknown" (the target never
        took it) or "transient" (no answer now)."""
        return None

    def subscribers(self, target, credentials: dict, *, after: str = "", limit: int = 500):
        """One page of the target's subscribers, MSISDN order after `after`: (rows, next cursor or None,
        total). Rows: {"msisdn", "imsi", "iccid", "barred", "services"}. None: the target cannot list."""
        return None


class ManualAdapter(Adapter):
    """Today's behaviour: a person does it at the host operator and marks the request done (or failed)
    with the operator's reference; the request waits in the brand's manual queue until then."""

    kind = "manual"

    def send(self, request, credentials: dict) -> Outcome:
        return Outcome("waiting", message=f"to do by hand at {request.target.name} (desk {request.target.desk})",
                       request_body=json.dumps({"operation": request.operation, "payload": request.payload}))


class MvneJsonAdapter(Adapter):
    """A host operator's HTTPS/JSON API with signed asynchronous callbacks (the shape telora netsim
    speaks; docs/provisioning.md has the contract)."""

    kind = "mvne_json"
    asynchronous = True

    def send(self, request, credentials: dict) -> Outcome:
        target = request.target
        url = target.url.rstrip("/") + "/v1/requests"
        body = json.dumps({"idempotency_key": request.idempotency_key, "operation": request.operation,
                           "payload": request.payload, "callback_url": target.callback_url}).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": request.idempotency_key,
                   "Authorization": f"Bearer {credentials.get('api_key', '')}"}
        outcome = Outcome("transient", url=url, request_headers=headers, request_body=body.decode())
        started = time.monotonic()
        try:  # a kept-alive connection per thread (wire.py); the key makes a resend on a fresh one safe
            status, data = wire.request("POST", url, body=body, headers=headers, timeout=target.timeout_seconds)
            outcome.status_code, outcome.response_body = status, data[:64_000].decode(errors="replace")
        except (http.client.HTTPException, OSError) as exc:  # TimeoutError is an OSError
            if isinstance(exc, TimeoutError) or isinstance(getattr(exc, "reason", None), TimeoutError):
                outcome.code, outcome.message = "timeout", f"no answer within {target.timeout_seconds} s"
            else:
                outcome.code, outcome.message = "unreachable", str(getattr(exc, "reason", exc))[:500]
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
        if outcome.status_code is None:
            return outcome
        try:
            answer = json.loads(outcome.response_body or "{}")
        except ValueError:
            answer = {}
        answer = answer if isinstance(answer, dict) else {}
        status = outcome.status_code
        error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
        outcome.correlation_id = str(answer.get("correlation_id") or "")[:120]
        if status in (200, 201) and answer.get("status") == "completed":
            outcome.kind, outcome.result = "completed", answer.get("subscriber") or {}
        elif status in (200, 201, 202):
            outcome.kind = "accepted"
        elif status in (408, 429) or status >= 500:
            outcome.kind, outcome.code, outcome.message = "transient", f"http_{status}", f"the target answered {status}"
        else:  # 4xx: refused for good (a bad key too: retrying it would change nothing)
            outcome.kind = "rejected"
            outcome.code = str(error.get("code") or f"http_{status}")[:80]
            outcome.message = str(error.get("message") or f"the target answered {status}")[:2000]
        return outcome

    def handle_callback(self, headers: dict, body: bytes, credentials: dict, *, now: float) -> CallbackResult:
        data = read_signed_json(headers, body, credentials.get("callback_secret", ""), now=now,
                                timestamp_header=TIMESTAMP_HEADER, signature_header=SIGNATURE_HEADER)
        status = data.get("status")
        state = {"completed": "completed", "failed": "failed", "in_progress": "acknowledged"}.get(status, "")
        return CallbackResult(idempotency_key=str(data.get("idempotency_key") or ""),
                              correlation_id=str(data.get("correlation_id") or ""), state=state,
                              code=str(data.get("code") or "")[:80], message=str(data.get("message") or "")[:2000],
                              result=data.get("subscriber") if isinstance(data.get("subscriber"), dict) else {},
                              sequence=int(data.get("sequence") or 0))


    def poll(self, request, credentials: dict) -> Outcome:
        from urllib.parse import quote

        target = request.target
        url = f"{target.url.rstrip('/')}/v1/requests/{quote(request.idempotency_key, safe='')}"
        outcome = _get(url, credentials, target.timeout_seconds)
        if outcome.status_code is None or outcome.kind == "transient":
            return outcome
        if outcome.status_code == 404:
            outcome.kind, outcome.code = "unknown", "UNKNOWN_REQUEST"
            return outcome
        answer = _json_object(outcome.response_body)
        outcome.correlation_id = str(answer.get("correlation_id") or "")[:120]
        status = answer.get("status")
        if status == "completed":
            outcome.kind = "completed"
            outcome.result = answer.get("subscriber") if isinstance(answer.get("subscriber"), dict) else {}
        elif status in ("failed", "rejected"):
            outcome.kind = "rejected"
            outcome.code = str(answer.get("code") or status)[:80]
            outcome.message = str(answer.get("message") or f"the target says {status}")[:2000]
        else:
            outcome.kind = "accepted"  # in progress: ask again later
        return outcome

    def subscribers(self, target, credentials: dict, *, after: str = "", limit: int = 500):
        from urllib.parse import urlencode

        url = f"{target.url.rstrip('/')}/v1/subscribers?{urlencode({'after': after, 'limit': limit})}"
        outcome = _get(url, credentials, max(target.timeout_seconds, 30))
        if outcome.kind != "answered":
            raise OSError(f"the target's subscriber list: {outcome.code or outcome.status_code}: {outcome.message}")
        answer = _json_object(outcome.response_body)
        rows = [r for r in answer.get("subscribers") or [] if isinstance(r, dict)]
        return rows, answer.get("next") or None, int(answer.get("total") or 0)


def _get(url: str, credentials: dict, timeout: float) -> Outcome:
    """A GET with the API key: kind "answered" (any 2xx or 404), else "transient" with the reason."""
    headers = {"Accept": "application/json", "Authorization": f"Bearer {credentials.get('api_key', '')}"}
    outcome = Outcome("transient", url=url, request_headers=headers)
    started = time.monotonic()
    try:
        wire = urllib.request.Request(url, headers=headers, method="GET")
        with urllib.request.urlopen(wire, timeout=timeout) as answer:  # noqa: S310 (the target's configured URL)
            outcome.status_code, outcome.response_body = answer.status, answer.read(4_000_000).decode(errors="replace")
    except urllib.error.HTTPError as exc:
        outcome.status_code, outcome.response_body = exc.code, exc.read(64_000).decode(errors="replace")
    except (urllib.error.URLError, OSError) as exc:
        timed_out = isinstance(exc, TimeoutError) or isinstance(getattr(exc, "reason", None), TimeoutError)
        outcome.code = "timeout" if timed_out else "unreachable"
        outcome.message = f"no answer within {timeout} s" if timed_out else str(getattr(exc, "reason", exc))[:500]
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    if outcome.status_code is not None:
        if 200 <= outcome.status_code < 300 or outcome.status_code == 404:
            outcome.kind = "answered"
        else:
            outcome.code, outcome.message = f"http_{outcome.status_code}", f"the target answered {outcome.status_code}"
    return outcome


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


ADAPTERS: dict[str, Adapter] = {"manual": ManualAdapter(), "mvne_json": MvneJsonAdapter()}


def register_adapter(adapter: Adapter) -> None:
    """Another operator's adapter (a SOAP one with zeep, …) plugs in here under its `kind`."""
    ADAPTERS[adapter.kind] = adapter


def get_adapter(kind: str) -> Adapter:
    return ADAPTERS[kind]


def mask(value):
    """A copy of a JSON-like value with secrets (PIN, PUK, Ki, keys, tokens, Authorization) replaced."""
    if isinstance(value, dict):
        return {k: MASK if SECRET_KEYS.match(str(k)) and v not in ("", None) else mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def mask_text(text: str) -> str:
    if text.lstrip().startswith("<"):
        return mask_xml(text)
    try:
        return json.dumps(mask(json.loads(text)))
    except ValueError:
        return text


XML_LEAF = re.compile(r"<((?:[\w.-]+:)?([\w.-]+))(\s[^>]*)?>([^<]*)</\1>")


def mask_xml(text: str) -> str:
    """XML (a SOAP envelope) with the text of secret elements (wsse:Password, Ki, PIN, …) replaced."""
    def leaf(match):
        if SECRET_KEYS.match(match.group(2)) and match.group(4).strip():
            return f"<{match.group(1)}{match.group(3) or ''}>{MASK}</{match.group(1)}>"
        return match.group(0)

    return XML_LEAF.sub(leaf, text)
