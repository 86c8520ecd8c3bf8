"""The SOAP provisioning adapters: a host operator's HLR/HSS provisioning API spoken with zeep.

Many host operators still expose their subscriber provisioning as SOAP. The contract Telora ships is
`wsdl/hlr_provisioning.wsdl` (+ `.xsd`), document/literal with a SOAP 1.1 and a SOAP 1.2 binding; `telora
netsim` serves the same at `/soap`. A SOAP operator answers in the call, so a try comes to `completed`
(or a refusal) at once: no callbacks. The TransactionHeader carries the request's idempotency key (the
operator carries out a transaction id once and answers a repeat as the first time), a WS-Security
UsernameToken carries the credentials (`username`, `password` of the target). A fault with the code
Client / Sender is a business refusal (permanent, the ProvisioningFault detail's code says why); Server /
Receiver faults, 5xx, time-outs and refused connections are transient (tried again with the same id).

The WSDL is read from the repository, not fetched from the operator at each call: it is the contract we
tested against, and parsing it once per process keeps a try to one HTTP round trip. The target's URL is
the service address. The stored exchange is the XML on the wire with the password masked.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

from telora.provisioning.adapters import Adapter, Outcome, mask_xml, register_adapter

WSDL = Path(__file__).resolve().parent / "wsdl" / "hlr_provisioning.wsdl"
NAMESPACE = "urn:telora:netsim:hlr-provisioning:1"
# Telora's operations -> the WSDL's
OPERATIONS = {"create": "CreateSubscriber", "change_services": "ModifyServices", "bar": "Barring",
              "unbar": "Barring", "sim_swap": "SwapSim", "number_change": "ChangeMsisdn",
              "delete": "DeleteSubscriber"}
MSISDN = re.compile(r"^[1-9][0-9]{6,14}$")
BUSINESS_FAULTS = ("Client", "Sender")  # the caller's fault: asking again changes nothing


class PayloadError(Exception):
    """The request cannot be put into the operator's message (a field missing or malformed)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field


def msisdn(value, field: str = "msisdn") -> str:
    """E.164 digits without the plus (the operator's format)."""
    digits = re.sub(r"[\s+()-]", "", str(value or ""))
    if not MSISDN.match(digits):
        raise PayloadError(field, f"{value!r} is not an international number (7 to 15 digits)")
    return digits


def _required(payload: dict, field: str) -> str:
    value = str(payload.get(field) or "").strip()
    if not value:
        raise PayloadError(field, "missing: the operator needs it for this operation")
    return value


def arguments(operation: str, payload: dict) -> dict:
    """The WSDL operation's arguments for one of Telora's requests (PayloadError naming the field)."""
    number = msisdn(payload.get("msisdn"))
    services = {"Service": [str(s)[:64] for s in payload.get("services") or []][:64]}
    if operation == "create":
        return {"Msisdn": number, "Imsi": _required(payload, "imsi"), "Iccid": _required(payload, "iccid"),
                "Services": services}
    if operation == "change_services":
        return {"Msisdn": number, "Services": services}
    if operation in ("bar", "unbar"):
        return {"Msisdn": number, "Action": operation.upper(), "Reason": str(payload.get("reason") or "")[:200] or None}
    if operation == "sim_swap":
        return {"Msisdn": number, "Imsi": _required(payload, "imsi"), "Iccid": _required(payload, "iccid")}
    if operation == "number_change":
        return {"Msisdn": number, "NewMsisdn": msisdn(payload.get("new_msisdn"), "new_msisdn")}
    return {"Msisdn": number}


def subscriber_of(value) -> dict:
    """A zeep Subscriber as the plain dict Telora keeps (the shape the JSON protocol uses too)."""
    if value is None:
        return {}
    services = (getattr(value.Services, "Service", None) or []) if value.Services is not None else []
    return {"msisdn": value.Msisdn, "imsi": value.Imsi or "", "iccid": value.Iccid or "", "barred": bool(value.Barred),
            "services": list(services)}


def _transport_class():
    from zeep.transports import Transport

    class RecordingTransport(Transport):
        """Keeps the last message sent and the answer received (for the exchange log)."""

        sent: tuple = ()
        received = None

        def post(self, address, message, headers):
            self.sent, self.received = (address, message, dict(headers)), None
            self.received = super().post(address, message, headers)
            return self.received

    return RecordingTransport


_local = threading.local()  # a zeep client per thread: the adapters run in a thread pool (send_due)
_document_lock = threading.Lock()
_document = None


def _settings():
    from zeep import Settings

    return Settings(strict=True, xml_huge_tree=False, forbid_dtd=True, forbid_entities=True, forbid_external=True)


def document():
    """The shipped WSDL, parsed once per process (read-only afterwards: the threads' clients share it)."""
    global _document
    with _document_lock:
        if _document is None:
            from zeep.transports import Transport
            from zeep.wsdl import Document

            _document = Document(str(WSDL), Transport(), settings=_settings())
    return _document


def client():
    """This thread's zeep client (its own transport, which records the wire) over the shared WSDL."""
    found = getattr(_local, "client", None)
    if found is None:
        from zeep import Client

        transport = _transport_class()(timeout=10, operation_timeout=10)
        found = _local.client = Client(document(), transport=transport, settings=_settings())
    return found


class HlrSoapAdapter(Adapter):
    """The host operator's SOAP 1.1 provisioning API (synchronous: the answer is in the call)."""

    kind = "hlr_soap"
    binding = "HlrProvisioningSoap11"
    asynchronous = False

    def _service(self, url: str, credentials: dict, timeout: int):
        from zeep.wsse.username import UsernameToken

        soap = client()
        soap.transport.operation_timeout = timeout
        soap.wsse = UsernameToken(str(credentials.get("username", "")), str(credentials.get("password", "")),
                                  use_digest=credentials.get("password_digest") in (True, "1", "true", "yes"))
        return soap, soap.create_service(f"{{{NAMESPACE}}}{self.binding}", url)

    def send(self, request, credentials: dict) -> Outcome:
        target = request.target
        operation = OPERATIONS[request.operation]
        outcome = Outcome("transient", url=target.url)
        try:
            args = arguments(request.operation, request.payload or {})
        except PayloadError as exc:
            outcome.kind, outcome.code, outcome.message = "rejected", "invalid_payload", str(exc)
            return outcome
        header = {"TransactionHeader": {"TransactionId": request.idempotency_key}}
        started = time.monotonic()
        soap, service = self._service(target.url, credentials, target.timeout_seconds)
        try:
            result = getattr(service, operation)(**args, _soapheaders=header)
            outcome.kind = "completed"
            outcome.correlation_id = str(result.CorrelationId or "")[:120]
            outcome.result = subscriber_of(result.Subscriber) or {"msisdn": args["Msisdn"], "deleted": True}
        except Exception as exc:  # noqa: BLE001  (every failure of the call is sorted below)
            self._failure(exc, outcome, target.timeout_seconds)
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
        self._record_wire(soap.transport, outcome)
        return outcome

    def _failure(self, exc: Exception, outcome: Outcome, timeout: int) -> None:
        """Sort a failed call: a business fault is permanent, the rest transient (same transaction id)."""
        import requests
        from zeep.exceptions import Fault, TransportError, ValidationError

        if isinstance(exc, Fault):
            code, detail_code, detail_message = fault_parts(exc)
            if code.rsplit(":", 1)[-1] in BUSINESS_FAULTS:
                outcome.kind, outcome.code = "rejected", (detail_code or "soap_client_fault")[:80]
            else:
                outcome.kind, outcome.code = "transient", "soap_server_fault"
            outcome.message = (detail_message or exc.message or "")[:2000]
        elif isinstance(exc, TransportError):
            status = exc.status_code or 0
            transient = status in (408, 429) or status >= 500 or status == 0
            outcome.kind = "transient" if transient else "rejected"
            outcome.code, outcome.message = f"http_{status}", f"the target answered {status}"
        elif isinstance(exc, requests.Timeout):
            outcome.code, outcome.message = "timeout", f"no answer within {timeout} s"
        elif isinstance(exc, requests.RequestException | OSError):
            outcome.code, outcome.message = "unreachable", str(exc)[:500]
        elif isinstance(exc, ValidationError):  # the message does not fit the contract: asking again won't help
            outcome.kind, outcome.code, outcome.message = "rejected", "invalid_payload", str(exc)[:2000]
        else:
            outcome.code, outcome.message = "soap_error", f"{type(exc).__name__}: {exc}"[:2000]

    @staticmethod
    def _record_wire(transport, outcome: Outcome) -> None:
        if transport.sent:
            _address, message, headers = transport.sent
            text = message.decode("utf-8", errors="replace") if isinstance(message, bytes) else str(message)
            outcome.request_body, outcome.request_headers = mask_xml(text), headers
        if transport.received is not None:
            outcome.status_code = transport.received.status_code
            outcome.response_body = transport.received.content[:64_000].decode("utf-8", errors="replace")
        transport.sent, transport.received = (), None

    def get_subscriber(self, target, credentials: dict, number: str) -> dict | None:
        """The subscriber as the operator holds it (None if unknown): for checks and reconciliation."""
        from zeep.exceptions import Fault

        soap, service = self._service(target.url, credentials, target.timeout_seconds)
        try:
            answer = service.GetSubscriber(Msisdn=msisdn(number),
                                           _soapheaders={"TransactionHeader": {"TransactionId": f"get:{number}"}})
        except Fault as exc:
            if fault_parts(exc)[1] == "UNKNOWN_SUBSCRIBER":
                return None
            raise
        finally:
            soap.transport.sent, soap.transport.received = (), None
        return subscriber_of(answer)


class HlrSoap12Adapter(HlrSoapAdapter):
    """The same API over its SOAP 1.2 binding."""

    kind = "hlr_soap12"
    binding = "HlrProvisioningSoap12"


def fault_parts(fault) -> tuple[str, str, str]:
    """(fault code, the ProvisioningFault detail's Code, its Message) of a zeep Fault."""
    code = fault.code or ""
    detail = fault.detail
    if detail is None:
        return code, "", ""
    found = detail.find(f".//{{{NAMESPACE}}}ProvisioningFault")
    if found is None:
        return code, "", ""
    return code, (found.findtext(f"{{{NAMESPACE}}}Code") or "").strip(), \
        (found.findtext(f"{{{NAMESPACE}}}Message") or "").strip()


def register() -> None:
    register_adapter(HlrSoapAdapter())
    register_adapter(HlrSoap12Adapter())
