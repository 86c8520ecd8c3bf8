"""netsim's SOAP side: the host operator's HLR provisioning API (wsdl/hlr_provisioning.wsdl) at `/soap`.

`GET /soap?wsdl` serves the WSDL (its address and schema location pointing at this server), `GET
/soap?xsd=hlr_provisioning.xsd` the schema; `POST /soap` takes SOAP 1.1 (text/xml) or SOAP 1.2
(application/soap+xml) envelopes and answers in the same version, in the call (no callbacks).

Every call needs a WS-Security UsernameToken (PasswordText or PasswordDigest, `--soap-username`,
`--soap-password`; a digest token's nonce is taken once, its Created at most 5 minutes away) and a
TransactionHeader/TransactionId. A transaction id is carried out once: a repeat gets the first answer
again (a fault included) and changes nothing. The subscriber database, its
business rules and the faults (`POST /admin/faults`) are the JSON side's: `5xx` is a Server / Receiver
fault (HTTP 500, nothing done), `timeout` does the work and answers after `--timeout-delay` seconds (after
the client gave up), `reject` and `callback_failed` are a Client / Sender fault with the fault's `code`;
the callback faults mean nothing to a protocol without callbacks and leave the call alone. A business
refusal is a Client / Sender fault whose ProvisioningFault detail has the code (SUBSCRIBER_EXISTS,
UNKNOWN_SUBSCRIBER, INVALID_MSISDN, AUTHENTICATION_FAILED, …).

Standard library and lxml only (no Django, no zeep: the simulator must not share the client's code).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import socket
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from lxml import etree

WSDL_DIR = Path(__file__).resolve().parent / "wsdl"
NS = "urn:telora:netsim:hlr-provisioning:1"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
MAX_BODY = 256 * 1024
MAX_TOKEN_AGE = 300  # seconds: a digest token created longer ago (or ahead) is refused (replays)
MSISDN = re.compile(r"^[1-9][0-9]{6,14}$")
# the WSDL's request elements -> netsim's operations (Barring says bar or unbar in its Action)
REQUESTS = {"CreateSubscriberRequest": "create", "ModifyServicesRequest": "change_services", "BarringRequest": "bar",
            "SwapSimRequest": "sim_swap", "ChangeMsisdnRequest": "number_change",
            "DeleteSubscriberRequest": "delete", "GetSubscriberRequest": "get"}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)


class Fault(Exception):
    """A SOAP fault to answer: `sender` (the caller's fault: Client / Sender) or the server's."""

    def __init__(self, code: str, message: str, *, sender: bool = True):
        super().__init__(message)
        self.code, self.message, self.sender = code, message, sender


def add_arguments(parser) -> None:
    parser.add_argument("--soap-username", default="netsim", help="the WS-Security user the SOAP side accepts")
    parser.add_argument("--soap-password", default="netsim-password", help="its password")


def configure(simulator, args) -> None:
    simulator.soap_username, simulator.soap_password = args.soap_username, args.soap_password


# --- GET: the contract ---------------------------------------------------------------------------------------

def handle_get(simulator, handler) -> None:
    parts = urlsplit(handler.path)
    query = parse_qs(parts.query, keep_blank_values=True)
    base = f"http://{handler.headers.get('Host') or '127.0.0.1'}{parts.path}"
    if "wsdl" in query:
        text = (WSDL_DIR / "hlr_provisioning.wsdl").read_text()
        text = re.sub(r'location="[^"]*"', f'location="{base}"', text)
        text = text.replace('schemaLocation="hlr_provisioning.xsd"', f'schemaLocation="{base}?xsd=hlr_provisioning.xsd"')
        return _send(handler, 200, text.encode(), "text/xml; charset=utf-8")
    if query.get("xsd") == ["hlr_provisioning.xsd"]:
        return _send(handler, 200, (WSDL_DIR / "hlr_provisioning.xsd").read_bytes(), "text/xml; charset=utf-8")
    return _send(handler, 404, b"ask ?wsdl or ?xsd=hlr_provisioning.xsd", "text/plain")


# --- POST: the operations ------------------------------------------------------------------------------------

def handle_post(simulator, handler) -> None:
    length = int(handler.headers.get("Content-Length") or 0)
    if length > MAX_BODY:
        return _send(handler, 413, b"request too large", "text/plain")
    raw = handler.rfile.read(length)
    version = SOAP11
    try:
        envelope = etree.fromstring(raw, PARSER)
        name = etree.QName(envelope)
        if name.localname != "Envelope" or name.namespace not in (SOAP11, SOAP12):
            raise Fault("VERSION_MISMATCH", "not a SOAP 1.1 or 1.2 envelope")
        version = name.namespace
        (status, body), delay = answer(simulator, envelope, version)
    except etree.XMLSyntaxError as exc:
        (status, body), delay = _fault(version, Fault("MALFORMED_XML", f"not XML: {exc}"[:300])), 0
    except Fault as exc:
        (status, body), delay = _fault(version, exc), 0
    if delay:
        time.sleep(delay)  # the client has given up by now; the work is done all the same
    try:
        _send(handler, status, body, _content_type(version))
    except OSError:
        pass


def answer(simulator, envelope, version: str) -> tuple[tuple[int, bytes], float]:
    """((HTTP status, the answer envelope), seconds to hold it) for one call; Fault for a refusal before any
    work (no credentials, no transaction id, a message the contract does not know)."""
    header = envelope.find(f"{{{version}}}Header")
    body = envelope.find(f"{{{version}}}Body")
    if body is None or len(body) == 0:
        raise Fault("BAD_REQUEST", "the envelope has no body")
    _authenticate(simulator, header)
    key = (header.findtext(f"{{{NS}}}TransactionHeader/{{{NS}}}TransactionId") if header is not None else "") or ""
    key = key.strip()
    if not key or len(key) > 160:
        raise Fault("MISSING_TRANSACTION_ID", "TransactionHeader/TransactionId: 1 to 160 characters")
    message = body[0]
    name = etree.QName(message)
    if name.namespace != NS or name.localname not in REQUESTS:
        raise Fault("UNKNOWN_OPERATION", f"{name.localname} is not an operation of this service")
    operation, payload = _read(name.localname, message)
    if operation == "get":
        with simulator.network.lock:
            found = simulator.network.subscriber(payload["msisdn"])
        if found is None:
            raise Fault("UNKNOWN_SUBSCRIBER", f"{payload['msisdn']} is not provisioned")
        response = etree.Element(f"{{{NS}}}GetSubscriberResponse", nsmap={"hlr": NS})
        response.append(_subscriber(found))
        return (200, _envelope(version, response)), 0
    response_name = name.localname.removesuffix("Request") + "Response"
    with simulator.network.lock:
        taken = simulator.network.taken(key)
        if taken is not None:  # the same transaction again: the first answer, nothing done again
            return _replay(version, response_name, taken[1]), 0
        fault = simulator.take_fault(operation, payload["msisdn"])
        kind = fault.get("kind") if fault else ""
        if kind == "5xx":
            return _fault(version, Fault("SERVICE_UNAVAILABLE", "the HLR is busy, try again", sender=False)), 0
        correlation = "NSS-" + uuid.uuid4().hex[:12]
        try:
            if kind in ("reject", "callback_failed"):
                raise Rejected(fault.get("code", "REJECTED"), fault.get("message", "refused by the operator"))
            subscriber = _apply(simulator.network, operation, payload)
        except Rejected as exc:
            stored = {"status": "rejected", "correlation_id": correlation,
                      "error": {"code": exc.code, "message": exc.message}}
            simulator.network.record(key, correlation, operation, payload, 500, stored, None)
            return _replay(version, response_name, stored), 0
        stored = {"status": "completed", "correlation_id": correlation, "subscriber": subscriber}
        simulator.network.record(key, correlation, operation, payload, 200, stored, None)
    return _replay(version, response_name, stored), simulator.timeout_delay if kind == "timeout" else 0


class Rejected(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _apply(network, operation: str, payload: dict) -> dict | None:
    try:
        subscriber = network.apply(operation, payload)
    except Exception as exc:  # netsim's Rejection (run as __main__, its class is not importable as such)
        if not hasattr(exc, "code"):
            raise
        raise Rejected(exc.code, exc.message) from None
    return None if subscriber.get("deleted") else subscriber


def _replay(version: str, response_name: str, stored: dict) -> tuple[int, bytes]:
    """The answer to a transaction, built from what was recorded (so a repeat answers alike)."""
    if stored.get("status") == "rejected":
        error = stored.get("error") or {}
        return _fault(version, Fault(error.get("code", "REJECTED"), error.get("message", "")))
    response = etree.Element(f"{{{NS}}}{response_name}", nsmap={"hlr": NS})
    etree.SubElement(response, f"{{{NS}}}CorrelationId").text = stored.get("correlation_id", "")
    etree.SubElement(response, f"{{{NS}}}Status").text = "COMPLETED"
    if stored.get("subscriber"):
        subscriber = _subscriber(stored["subscriber"])
        response.append(subscriber)
    return 200, _envelope(version, response)


def _read(request: str, message) -> tuple[str, dict]:
    """netsim's operation and payload from a request element (Fault for a malformed field)."""
    def text(name: str, required: bool = True) -> str:
        value = (message.findtext(f"{{{NS}}}{name}") or "").strip()
        if required and not value:
            raise Fault("MISSING_FIELD", f"{name} is required")
        return value

    number = text("Msisdn")
    if not MSISDN.match(number):
        raise Fault("INVALID_MSISDN", f"Msisdn {number!r}: 7 to 15 digits, no plus")
    payload: dict = {"msisdn": number}
    operation = REQUESTS[request]
    if request in ("CreateSubscriberRequest", "SwapSimRequest"):
        payload.update(imsi=text("Imsi"), iccid=text("Iccid"))
    if request in ("CreateSubscriberRequest", "ModifyServicesRequest"):
        payload["services"] = [s.text or "" for s in message.iterfind(f"{{{NS}}}Services/{{{NS}}}Service")]
    if request == "BarringRequest":
        action = text("Action")
        if action not in ("BAR", "UNBAR"):
            raise Fault("INVALID_ACTION", "Action: BAR or UNBAR")
        operation = action.lower()
    if request == "ChangeMsisdnRequest":
        payload["new_msisdn"] = text("NewMsisdn")
        if not MSISDN.match(payload["new_msisdn"]):
            raise Fault("INVALID_MSISDN", f"NewMsisdn {payload['new_msisdn']!r}: 7 to 15 digits, no plus")
    return operation, payload


def _authenticate(simulator, header) -> None:
    token = header.find(f"{{{WSSE}}}Security/{{{WSSE}}}UsernameToken") if header is not None else None
    if token is None:
        raise Fault("AUTHENTICATION_FAILED", "a WS-Security UsernameToken is required")
    user = token.findtext(f"{{{WSSE}}}Username") or ""
    password = token.find(f"{{{WSSE}}}Password")
    expected_user = getattr(simulator, "soap_username", "netsim")
    expected = getattr(simulator, "soap_password", "netsim-password")
    given = password.text or "" if password is not None else ""
    if password is not None and password.get("Type") == DIGEST:
        nonce, created = token.findtext(f"{{{WSSE}}}Nonce") or "", token.findtext(f"{{{WSU}}}Created") or ""
        try:
            raw_nonce = base64.b64decode(nonce)
            stamp = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            raise Fault("AUTHENTICATION_FAILED", "the digest token's Nonce or Created is malformed") from None
        if abs(time.time() - stamp.timestamp()) > MAX_TOKEN_AGE:
            raise Fault("AUTHENTICATION_FAILED", "the digest token was created too long ago (or ahead)")
        if not _first_use(simulator, nonce):
            raise Fault("AUTHENTICATION_FAILED", "the digest token's nonce was used already (a replay)")
        expected = base64.b64encode(hashlib.sha1(raw_nonce + created.encode() + expected.encode())  # noqa: S324
                                    .digest()).decode()  # (WSS UsernameToken profile: SHA-1 by definition)
    if not (hmac.compare_digest(user, expected_user) and hmac.compare_digest(given, expected)):
        raise Fault("AUTHENTICATION_FAILED", "unknown user or wrong password")


def _first_use(simulator, nonce: str) -> bool:
    """Whether a digest token's nonce is new (those seen within MAX_TOKEN_AGE are kept; older tokens are
    refused by their age anyway)."""
    now = time.time()
    with simulator.network.lock:
        seen = simulator.__dict__.setdefault("soap_nonces", {})
        for old in [n for n, at in seen.items() if now - at > 2 * MAX_TOKEN_AGE]:
            del seen[old]
        if nonce in seen:
            return False
        seen[nonce] = now
    return True


# --- writing answers -------------------------------------------------------------------------------------------

def _subscriber(value: dict):
    element = etree.Element(f"{{{NS}}}Subscriber")
    for name, key in (("Msisdn", "msisdn"), ("Imsi", "imsi"), ("Iccid", "iccid")):
        etree.SubElement(element, f"{{{NS}}}{name}").text = str(value.get(key) or "")
    etree.SubElement(element, f"{{{NS}}}Barred").text = "true" if value.get("barred") else "false"
    services = etree.SubElement(element, f"{{{NS}}}Services")
    for service in value.get("services") or []:
        etree.SubElement(services, f"{{{NS}}}Service").text = str(service)
    return element


def _envelope(version: str, content) -> bytes:
    envelope = etree.Element(f"{{{version}}}Envelope", nsmap={"soap": version, "hlr": NS})
    etree.SubElement(envelope, f"{{{version}}}Body").append(content)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def _fault(version: str, fault: Fault) -> tuple[int, bytes]:
    """A SOAP fault in the caller's version: 1.1 always HTTP 500; 1.2 Sender 400, Receiver 500."""
    detail_name = "detail" if version == SOAP11 else f"{{{version}}}Detail"
    element = etree.Element(f"{{{version}}}Fault")
    if version == SOAP11:
        etree.SubElement(element, "faultcode").text = "soap:Client" if fault.sender else "soap:Server"
        etree.SubElement(element, "faultstring").text = fault.message
    else:
        code = etree.SubElement(element, f"{{{version}}}Code")
        etree.SubElement(code, f"{{{version}}}Value").text = "soap:Sender" if fault.sender else "soap:Receiver"
        reason = etree.SubElement(element, f"{{{version}}}Reason")
        text = etree.SubElement(reason, f"{{{version}}}Text")
        text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        text.text = fault.message
    detail = etree.SubElement(element, detail_name)
    problem = etree.SubElement(detail, f"{{{NS}}}ProvisioningFault")
    etree.SubElement(problem, f"{{{NS}}}Code").text = fault.code
    etree.SubElement(problem, f"{{{NS}}}Message").text = fault.message
    status = 400 if version == SOAP12 and fault.sender else 500
    return status, _envelope(version, element)


def _content_type(version: str) -> str:
    return "text/xml; charset=utf-8" if version == SOAP11 else "application/soap+xml; charset=utf-8"


def _send(handler, status: int, body: bytes, content_type: str) -> None:
    # SOAP clients keep the connection open: without TCP_NODELAY the body waits for the headers' ACK (40 ms)
    handler.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
