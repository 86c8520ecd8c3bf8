"""Every write of the porting app: the clearing-house connection, port-in and port-out requests and
their state machine, the messages to the clearing house (sent after their transaction commits, retried
with the same idempotency key), its signed callbacks, and the flows told of the donor's answer.

A request moves draft → submitted → accepted / rejected → scheduled → completed, or cancelled (before
the window) / failed (no answer before the deadline, or refused by the clearing house). It never goes
back: a late or repeated callback is logged and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from telora.core import clock
from telora.core.sealing import Sealer
from telora.core.services import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.porting.adapters import ADAPTERS, Received, Sent, SignatureError, get_adapter, mask, mask_text
from telora.porting.models import (
    OPEN_STATES,
    REASONS,
    ClearingHouse,
    Operator,
    PortingMessage,
    PortingRequest,
)

logger = logging.getLogger(__name__)

MESSAGE = "porting_answer"  # the BPMN message a port-in flow waits for (correlation: the instance's)
MAX_TRIES = 10
RETRY = dt.timedelta(seconds=30)
NOTIFY_FOR = dt.timedelta(days=2)
MAX_AHEAD = dt.timedelta(days=90)  # a porting date at most this far ahead
AUTH_FIELDS = ("account_number", "pin", "id_number")

SEALER = Sealer("porting secrets", variable="TELORA_PORTING_KEY", info=b"porting.secrets",
                wrong_key="The porting secrets were sealed with another key (TELORA_PORTING_KEY / SECRET_KEY).",
                altered="A porting secret was altered or belongs to another row.")


def _context(kind: str, pk) -> bytes:
    return f"porting-{kind}:{pk}".encode()


def credentials(house: ClearingHouse) -> dict:
    """The clearing house's secrets, opened (for the adapters only: never shown, never logged)."""
    return SEALER.unseal(house.sealed_credentials, _context("house", house.pk)) if house.sealed_credentials else {}


def authorisation(request: PortingRequest) -> dict:
    """The customer's authorisation data, opened (sent to the clearing house; never shown)."""
    if not request.sealed_authorisation:
        return {}
    return SEALER.unseal(request.sealed_authorisation, _context("request", request.idempotency_key))


def _hint(auth: dict) -> str:
    """What screens show of the authorisation: which fields were given and their last two characters."""
    return ", ".join(f"{k.replace('_', ' ')} …{str(v)[-2:]}" for k, v in auth.items() if v)[:120]


# --- the clearing house -------------------------------------------------------------------------------

OPERATORS_CSV = __import__("pathlib").Path(__file__).resolve().parent / "data" / "operators.csv"


def ensure_operators() -> int:
    """The shipped operators (data/operators.csv: the demo countries), when the table lacks them (a
    database flushed after the migration loaded them); how many were added."""
    import csv

    with OPERATORS_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    known = set(Operator.objects.values_list("country", "code"))
    missing = [Operator(country=r["country"], code=r["code"], name=r["name"], kind=r["kind"]) for r in rows
               if (r["country"], r["code"]) not in known]
    Operator.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)

@transaction.atomic
def configure_clearing_house(brand, *, name: str, url: str, operator_code: str, adapter: str = "portsim_json",
                             callback_url: str = "", answer_hours: int = 24, timeout_seconds: int = 10,
                             port_out_debt_limit=None, secrets: dict | None = None, actor: Actor,
                             at: dt.datetime) -> ClearingHouse:
    """Create or change the brand's clearing-house connection. `secrets` (api_key, callback_secret) given
    replace those stored; the others are kept. The audit names which secrets changed, never their values."""
    if adapter not in ADAPTERS:
        raise ServiceError(f"adapter: one of {', '.join(sorted(ADAPTERS))}", field="adapter")
    if not url:
        raise ServiceError("url: the clearing house's address", field="url")
    if not Operator.objects.filter(country=brand.country).exists():
        ensure_operators()
    if not Operator.objects.filter(country=brand.country, code=operator_code).exists():
        raise ServiceError(f"operator_code: {operator_code!r} is not an operator of {brand.country}",
                           field="operator_code")
    if not 1 <= int(answer_hours) <= 24 * 14:
        raise ServiceError("answer_hours: from 1 to 336", field="answer_hours")
    if not 1 <= int(timeout_seconds) <= 120:
        raise ServiceError("timeout_seconds: from 1 to 120", field="timeout_seconds")
    if port_out_debt_limit not in (None, ""):
        port_out_debt_limit = Decimal(str(port_out_debt_limit))
        if port_out_debt_limit < 0:
            raise ServiceError("port_out_debt_limit: zero or more", field="port_out_debt_limit")
    else:
        port_out_debt_limit = None
    house = ClearingHouse.objects.select_for_update().filter(brand=brand).first()
    old = None
    if house is None:
        house = ClearingHouse(brand=brand, created_at=at)
    else:
        old = {"name": house.name, "url": house.url, "callback_url": house.callback_url,
               "operator_code": house.operator_code, "answer_hours": house.answer_hours,
               "port_out_debt_limit": str(house.port_out_debt_limit)}
    house.name, house.adapter, house.url, house.callback_url = name or "Clearing house", adapter, url, callback_url
    house.operator_code, house.answer_hours, house.timeout_seconds = operator_code, answer_hours, timeout_seconds
    house.port_out_debt_limit, house.updated_at = port_out_debt_limit, at
    house.save()
    new = {"name": house.name, "url": url, "callback_url": callback_url, "operator_code": operator_code,
           "answer_hours": answer_hours, "port_out_debt_limit": str(port_out_debt_limit)}
    if secrets:
        house.sealed_credentials = SEALER.seal({**credentials(house), **{k: str(v) for k, v in secrets.items()}},
                                               _context("house", house.pk))
        house.save(update_fields=["sealed_credentials"])
        new["secrets"] = sorted(secrets)
    record_event(actor=actor, at=at, action="create" if old is None else "update", obj=house, brand=brand, old=old,
                 new=new)
    return house


def clearing_house_for(brand) -> ClearingHouse | None:
    return ClearingHouse.objects.filter(brand=brand, active=True).first()


def _house(brand) -> ClearingHouse:
    house = clearing_house_for(brand)
    if house is None:
        raise ServiceError(f"clearing_house: {brand.code} has no porting clearing house configured",
                           field="clearing_house", code="state")
    return house


# --- port-in: the order's request --------------------------------------------------------------------

def _digits(brand, number) -> str:
    from telora.inventory.validation import InvalidValue, clean_number

    try:
        return clean_number(str(number or ""), brand.country)
    except InvalidValue as exc:
        raise ServiceError(f"number: {exc}", field="number") from None


def _requested_date(value, brand, at: dt.datetime) -> dt.date:
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value or ""))
        except ValueError:
            raise ServiceError("requested_date: give the porting date as YYYY-MM-DD", field="requested_date") from None
    today = clock.localtime(at, brand).date()
    if day <= today:
        raise ServiceError("requested_date: a porting date from tomorrow on (the donor needs time to answer)",
                           field="requested_date")
    if day > today + MAX_AHEAD:
        raise ServiceError("requested_date: at most 90 days ahead", field="requested_date")
    return day


def prepare_port_in(order, items: list[dict], *, actor: Actor, at: dt.datetime) -> list[dict]:
    """The orders hook for a port-in order (in its transaction): checks the number, the donor, the date and
    the customer's authorisation, records the porting request (draft) with the authorisation sealed, and
    leaves in the order's item only what is not secret (the authorisation never lands in the order)."""
    brand = order.brand
    house = _house(brand)
    values = dict(items[0].get("characteristics") or {})
    digits = _digits(brand, values.get("number"))
    donor = str(values.get("donor") or values.get("donor_code") or "")
    if not Operator.objects.filter(country=brand.country, code=donor).exists():
        raise ServiceError(f"donor: {donor!r} is not an operator of {brand.country}", field="donor")
    if donor == house.operator_code:
        raise ServiceError("donor: the number is ours already (the donor is our own operator code)", field="donor")
    day = _requested_date(values.get("requested_date"), brand, at)
    auth = {k: str(values.pop(k)).strip()[:80] for k in AUTH_FIELDS if values.get(k) not in (None, "")}
    if not auth:
        raise ServiceError("account_number: give the customer's authorisation (account number at the donor, "
                           "PIN or ID number)", field="account_number")
    from telora.customers.models import Subscription

    if Subscription.objects.filter(brand=brand, identifier=digits).exclude(status="terminated").exists():
        raise ServiceError(f"number: +{digits} is a live line of {brand.code} already", field="number")
    if PortingRequest.objects.filter(brand=brand, number=digits, direction="in", state__in=OPEN_STATES).exists():
        raise ServiceError(f"number: +{digits} has a port-in in progress", field="number", code="conflict")
    request = PortingRequest(brand=brand, direction="in", state="draft", number=digits, donor_code=donor,
                             recipient_code=house.operator_code, customer=order.customer, order=order,
                             requested_date=day, idempotency_key=f"port-in:{brand.pk}:{order.pk}",
                             authorisation_hint=_hint(auth), created_at=at, updated_at=at)
    request.sealed_authorisation = SEALER.seal(auth, _context("request", request.idempotency_key))
    request.save()
    record_event(actor=actor, at=at, action="create", obj=request, brand=brand,
                 new={"direction": "in", "number": digits, "donor": donor, "requested_date": day.isoformat(),
                      "order": order.number, "authorisation": request.authorisation_hint})
    values.update(porting_request=request.pk, number=digits, donor=donor, requested_date=day.isoformat())
    values.setdefault("service_type", "mobile_postpaid")
    return [{**items[0], "characteristics": values}, *items[1:]]


def prepare_port_out(order, items: list[dict], *, actor: Actor, at: dt.datetime) -> list[dict]:
    """The orders hook for a port-out order: it is only ever made for a request the clearing house sent."""
    values = dict(items[0].get("characteristics") or {})
    request = PortingRequest.objects.filter(brand=order.brand, direction="out", pk=values.get("porting_request") or 0,
                                            state="submitted", order__isnull=True).first()
    if request is None:
        raise ServiceError("porting_request: a port-out starts from the clearing house's request (the recipient "
                           "operator asks for the number)", field="porting_request")
    PortingRequest.objects.filter(pk=request.pk).update(order=order, updated_at=at)
    return items


@transaction.atomic
def submit_port_in(request: PortingRequest, *, flow_instance=None, actor: Actor, at: dt.datetime) -> PortingRequest:
    """draft → submitted: the request goes to the clearing house (after the transaction commits); the donor
    must answer before `answer_deadline`. Submitting again changes nothing."""
    request = PortingRequest.objects.select_for_update().select_related("brand").get(pk=request.pk)
    if request.state != "draft":
        return request
    house = _house(request.brand)
    request.state, request.submitted_at, request.updated_at = "submitted", at, at
    request.answer_deadline = at + dt.timedelta(hours=house.answer_hours)
    if flow_instance is not None:
        request.flow_instance = flow_instance
    request.save()
    record_event(actor=actor, at=at, action="submit", obj=request, brand=request.brand, old={"state": "draft"},
                 new={"state": "submitted", "answer_deadline": request.answer_deadline.isoformat()})
    queue_message(request, house, "submit", {
        "type": "port_in", "number": request.number, "donor": request.donor_code, "recipient": house.operator_code,
        "requested_date": request.requested_date.isoformat(), "callback_url": house.callback_url},
        secret={"authorisation": authorisation(request)}, key=request.idempotency_key, at=at)
    return request


def _move(request: PortingRequest, state: str, *, at, actor: Actor, code: str = "", reason: str = "",
          message: str = "") -> None:
    old = {"state": request.state}
    request.state, request.updated_at = state, at
    if code:
        request.reason_code, request.reason = code[:40], (reason or REASONS.get(code, ""))[:500]
    if state in ("completed", "cancelled", "failed", "rejected"):
        request.completed_at = request.completed_at or at
    request.save()
    record_event(actor=actor, at=at, action=state, obj=request, brand=request.brand, old=old,
                 new={"state": state, "reason_code": request.reason_code}, message=(message or request.reason)[:500])


def record_answer(request: PortingRequest, *, accepted: bool, code: str = "", reason: str = "", window=None,
                  at: dt.datetime, actor: Actor) -> bool:
    """The donor's answer to a port-in (a callback, or the clearing house's refusal): submitted → accepted
    with its window, or rejected with the reason. False (nothing changes) for a request no longer waiting."""
    if request.state != "submitted":
        return False
    request.answered_at = at
    if accepted:
        request.window_at = _window(window, request.requested_date, request.brand)
        _move(request, "accepted", at=at, actor=actor, message="accepted by the donor")
    else:
        _move(request, "rejected", at=at, actor=actor, code=code or "REJECTED", reason=reason)
    if request.flow_instance_id is not None:
        transaction.on_commit(lambda: notify_flow(request.pk, at=at))
    return True


def _window(value, day: dt.date, brand) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    try:
        moment = dt.datetime.fromisoformat(str(value or ""))
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    except ValueError:  # no window given: the requested date's start in the brand's time zone
        from zoneinfo import ZoneInfo

        return dt.datetime.combine(day, dt.time(6), tzinfo=ZoneInfo(brand.timezone))


@transaction.atomic
def schedule(request: PortingRequest, *, actor: Actor, at: dt.datetime) -> PortingRequest:
    """accepted → scheduled: the flow waits for the window."""
    request = PortingRequest.objects.select_for_update().select_related("brand").get(pk=request.pk)
    if request.state == "accepted":
        _move(request, "scheduled", at=at, actor=actor, message=f"window {request.window_at:%Y-%m-%d %H:%M} UTC")
    return request


@transaction.atomic
def expire(request: PortingRequest, *, actor: Actor, at: dt.datetime) -> PortingRequest:
    """The donor did not answer before the deadline: the request fails and is withdrawn at the clearing
    house. A request answered meanwhile is left as it is."""
    request = PortingRequest.objects.select_for_update().select_related("brand").get(pk=request.pk)
    if request.state != "submitted":
        return request
    _move(request, "failed", at=at, actor=actor, code="NO_ANSWER")
    house = clearing_house_for(request.brand)
    if house is not None and request.submitted_at:
        queue_message(request, house, "cancel", {"correlation_id": request.correlation_id, "code": "NO_ANSWER"},
                      key=f"{request.idempotency_key}:cancel", at=at)
    return request


@transaction.atomic
def cancel_port(request: PortingRequest, *, reason: str = "", actor: Actor, at: dt.datetime) -> PortingRequest:
    """Cancel before the porting window (a cancelled order, or the customer changed their mind): the
    request is cancelled and withdrawn at the clearing house. After the window, or once completed, refused."""
    request = PortingRequest.objects.select_for_update().select_related("brand").get(pk=request.pk)
    if request.state in ("rejected", "failed", "cancelled"):
        return request
    if request.state == "completed":
        raise ServiceError("state: the number is ported already; a port cannot be cancelled after it",
                           field="state", code="state")
    if request.window_at is not None and at >= request.window_at:
        raise ServiceError(f"state: the porting window ({request.window_at:%Y-%m-%d %H:%M} UTC) has begun",
                           field="state", code="state")
    submitted = request.state != "draft"
    _move(request, "cancelled", at=at, actor=actor, code="CANCELLED", reason=reason or REASONS["CANCELLED"])
    house = clearing_house_for(request.brand)
    if submitted and house is not None:
        queue_message(request, house, "cancel", {"correlation_id": request.correlation_id, "code": "CANCELLED"},
                      key=f"{request.idempotency_key}:cancel", at=at)
    return request


@transaction.atomic
def activate_port_in(request: PortingRequest, item, *, actor: Actor, at: dt.datetime) -> PortingRequest:
    """On the porting window: the number enters the inventory as ported in, the line is created with it
    (its number history starts now), the request completes and the clearing house is told. Done once."""
    from telora.inventory.services import port_in_number
    from telora.orders import operations

    request = PortingRequest.objects.select_for_update().select_related("brand").get(pk=request.pk)
    if request.state == "completed":
        return request
    if request.state != "scheduled":
        raise ServiceError(f"state: the port-in is {request.state}, not scheduled", field="state", code="state")
    port_in_number(request.brand, request.number, actor=Actor.system("porting"), at=at, donor=request.donor_code)
    item.characteristics = {**item.characteristics, "number": request.number}
    result = operations.sign_up(item, actor=actor, at=at)
    item.state, item.result = "completed", result
    item.save(update_fields=["state", "result", "subscription", "characteristics"])
    type(item.order).objects.filter(pk=item.order_id).update(subscription_id=item.subscription_id)
    request.subscription_id = item.subscription_id
    _move(request, "completed", at=at, actor=actor, message=f"ported in: line {result.get('subscription')}")
    house = clearing_house_for(request.brand)
    if house is not None:
        queue_message(request, house, "complete", {"correlation_id": request.correlation_id},
                      key=f"{request.idempotency_key}:complete", at=at)
    return request


# --- port-out -----------------------------------------------------------------------------------------

def open_debt(subscription) -> Decimal:
    """What the line's billing account owes (the receivables ledger's sum; credit is negative)."""
    from telora.billing.models import ARLedgerEntry

    total = ARLedgerEntry.objects.filter(account_id=subscription.billing_account_id).aggregate(s=Sum("amount"))["s"]
    return total or Decimal("0")


def validate_port_out(request: PortingRequest, *, at: dt.datetime) -> tuple[str, str]:
    """("", "") when the port-out may go ahead, else (reason code, reason): the number is a live line of
    the brand, the authorisation matches its customer (the customer number or a billing account number,
    and the ID number when the recipient gives one), and the brand's debt rule, if it has one, holds."""
    line = request.subscription
    if line is None or line.status not in ("active", "suspended") or line.identifier != request.number:
        return "UNKNOWN_NUMBER", f"+{request.number} is not a live line of ours"
    customer = line.customer
    auth = authorisation(request)
    accounts = {customer.number.upper(), *(a.upper() for a in customer.accounts.values_list("number", flat=True))}
    given = str(auth.get("account_number") or "").strip().upper()
    if not given or given not in accounts:
        return "AUTH_MISMATCH", "the account number does not match the customer's"
    id_given = re.sub(r"\W", "", str(auth.get("id_number") or "")).upper()
    id_known = re.sub(r"\W", "", str(getattr(customer, "id_number", "") or "")).upper()
    if id_given and id_known and id_given != id_known:
        return "AUTH_MISMATCH", "the ID number does not match the customer's"
    house = clearing_house_for(request.brand)
    if house is not None and house.port_out_debt_limit is not None:
        debt = open_debt(line)
        if debt > house.port_out_debt_limit:
            return "DEBT", f"the account owes {debt} {request.brand.currency} (the limit is {house.port_out_debt_limit})"
    return "", ""


@transaction.atomic
def answer_port_out(request: PortingRequest, *, accept: bool, code: str = "", reason: str = "", actor: Actor,
                    at: dt.datetime) -> PortingRequest:
    """Telora (the donor) answers the recipient through the clearing house: accepted (scheduled for the
    window) or rejected with the reason code. Answering again changes nothing."""
    request = PortingRequest.objects.select_for_update().select_related("brand").get(pk=request.pk)
    if request.state != "submitted":
        return request
    request.answered_at = at
    if accept:
        _move(request, "accepted", at=at, actor=actor, message="accepted")
        _move(request, "scheduled", at=at, actor=actor, message=f"window {request.window_at:%Y-%m-%d %H:%M} UTC")
    else:
        _move(request, "rejected", at=at, actor=actor, code=code or "REJECTED", reason=reason)
    house = clearing_house_for(request.brand)
    if house is not None:
        queue_message(request, house, "answer", {"correlation_id": request.correlation_id,
                                                 "status": "accepted" if accept else "rejected",
                                                 "code": request.reason_code if not accept else "",
                                                 "message": request.reason if not accept else ""},
                      key=f"{request.idempotency_key}:answer", at=at)
    return request


@transaction.atomic
def complete_port_out(request: PortingRequest, *, actor: Actor, at: dt.datetime) -> PortingRequest:
    """On the window: the line is terminated (ported out), its number leaves the inventory as ported out,
    the request completes and the clearing house is told. Done once."""
    from telora.customers.services import terminate_subscription
    from telora.inventory.services import port_out_number

    request = PortingRequest.objects.select_for_update(of=("self",)).select_related("brand", "subscription").get(
        pk=request.pk)
    if request.state == "completed":
        return request
    if request.state != "scheduled":
        raise ServiceError(f"state: the port-out is {request.state}, not scheduled", field="state", code="state")
    line = request.subscription
    if line is not None and line.status != "terminated":
        terminate_subscription(line, actor=actor, at=at, reason=f"ported out to {request.recipient_code}")
    port_out_number(request.brand, request.number, actor=Actor.system("porting"), at=at,
                    recipient=request.recipient_code)
    _move(request, "completed", at=at, actor=actor, message=f"ported out to {request.recipient_code}")
    house = clearing_house_for(request.brand)
    if house is not None:
        queue_message(request, house, "complete", {"correlation_id": request.correlation_id},
                      key=f"{request.idempotency_key}:complete", at=at)
    return request


def receive_port_out(house: ClearingHouse, received: Received, *, at: dt.datetime) -> PortingRequest:
    """A recipient asks for one of our numbers: the request is recorded (authorisation sealed) and, when
    the number is a live line of the brand, a port-out order starts its flow (validation, answer, the
    window); otherwise it is rejected at once. A repeated callback finds the request made the first time."""
    from telora.customers.models import Subscription

    key = f"port-out:{house.brand_id}:{received.correlation_id}"
    existing = PortingRequest.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    brand = house.brand
    actor = Actor.system("porting")
    try:
        digits = _digits(brand, received.number)
    except ServiceError:
        digits = re.sub(r"\D", "", received.number)[:15] or "0"
    try:
        day = dt.date.fromisoformat(received.requested_date)
    except ValueError:
        day = clock.localtime(at, brand).date()
    line = (Subscription.objects.filter(brand=brand, identifier=digits, status__in=("active", "suspended"))
            .select_related("customer").first())
    busy = PortingRequest.objects.filter(brand=brand, number=digits, direction="out", state__in=OPEN_STATES).exists()
    request = PortingRequest(brand=brand, direction="out", state="submitted", number=digits,
                             donor_code=house.operator_code, recipient_code=received.recipient,
                             customer=line.customer if line else None, subscription=line, requested_date=day,
                             window_at=_window(received.window_start, day, brand),
                             correlation_id=received.correlation_id, idempotency_key=key,
                             authorisation_hint=_hint(received.authorisation), submitted_at=at, created_at=at,
                             updated_at=at)
    request.sealed_authorisation = SEALER.seal(received.authorisation, _context("request", key))
    if busy:  # a second request for a number already leaving: refused without a record of its own
        request.state, request.reason_code = "rejected", "PORT_IN_PROGRESS"
    request.save()
    record_event(actor=actor, at=at, action="create", obj=request, brand=brand,
                 new={"direction": "out", "number": digits, "recipient": received.recipient,
                      "requested_date": day.isoformat(), "authorisation": request.authorisation_hint})
    if busy:
        request.reason = "the number has a port-out in progress"
        request.completed_at = at
        request.save()
        queue_message(request, house, "answer", {"correlation_id": request.correlation_id, "status": "rejected",
                                                 "code": "PORT_IN_PROGRESS", "message": request.reason},
                      key=f"{key}:answer", at=at)
        return request
    if line is None:
        answer_port_out(request, accept=False, code="UNKNOWN_NUMBER", reason=f"+{digits} is not a live line of ours",
                        actor=actor, at=at)
        return request
    from telora.orders.services import create_order

    order = create_order(line.customer, actor=actor, at=at, order_type="port_out", channel="system", subscription=line,
                         items=[{"characteristics": {"porting_request": request.pk, "number": digits,
                                                     "recipient": received.recipient}}],
                         description=f"port-out of +{digits} to {received.recipient}")
    request.refresh_from_db()
    if order.flow_instance_id and request.flow_instance_id is None:
        PortingRequest.objects.filter(pk=request.pk).update(flow_instance_id=order.flow_instance_id)
    return request


# --- messages to and from the clearing house --------------------------------------------------------

def queue_message(request, house: ClearingHouse, kind: str, payload: dict, *, key: str, at: dt.datetime,
                  secret: dict | None = None) -> PortingMessage:
    """An outgoing message, sent once the transaction commits (and by the periodic job until it gets an
    answer). The same key again returns the message queued the first time."""
    existing = PortingMessage.objects.filter(clearing_house=house, direction="out", idempotency_key=key).first()
    if existing is not None:
        return existing
    message = PortingMessage.objects.create(
        brand_id=house.brand_id, request=request, clearing_house=house, direction="out", kind=kind, state="pending",
        payload=payload, idempotency_key=key, next_try_at=at, at=at)
    if secret:
        message.sealed_payload = SEALER.seal(secret, _context("message", message.pk))
        message.save(update_fields=["sealed_payload"])
    transaction.on_commit(lambda: _send_quietly(message.pk))
    return message


def _send_quietly(message_id: int) -> None:
    try:
        send_message(message_id, at=clock.now())
    except Exception:  # noqa: BLE001  (the periodic job tries again)
        logger.exception("porting: message %s left to the periodic job", message_id)


def send_message(message_id: int, *, at: dt.datetime) -> str:
    """One try of a pending message, outside any transaction while on the wire; what it came to."""
    with transaction.atomic():
        message = (PortingMessage.objects.select_for_update(skip_locked=True).select_related("clearing_house")
                   .filter(pk=message_id, state="pending").first())
        if message is None:
            return ""
        house = message.clearing_house
        message.tries += 1
        message.next_try_at = at + dt.timedelta(seconds=house.timeout_seconds) + RETRY
        message.save(update_fields=["tries", "next_try_at"])
        secrets = credentials(house)
        payload = {**message.payload}
        if message.sealed_payload:
            payload.update(SEALER.unseal(message.sealed_payload, _context("message", message.pk)))
        if "correlation_id" in payload and not payload["correlation_id"] and message.request_id:
            payload["correlation_id"] = PortingRequest.objects.filter(pk=message.request_id).values_list(
                "correlation_id", flat=True).first() or ""
    sent = get_adapter(house.adapter).send(message.kind, payload, house, secrets, idempotency_key=message.idempotency_key)
    return record_sent(message.pk, sent, at=at)


def record_sent(message_id: int, sent: Sent, *, at: dt.datetime) -> str:
    with transaction.atomic():
        message = PortingMessage.objects.select_for_update().get(pk=message_id)
        message.url, message.request_headers = sent.url[:500], mask(sent.request_headers)
        message.request_body, message.status_code = mask_text(sent.request_body)[:64_000], sent.status_code
        message.response_body, message.duration_ms = mask_text(sent.response_body)[:64_000], sent.duration_ms
        message.error = f"{sent.code}: {sent.message}" if sent.code else ""
        if sent.kind == "ok":
            message.state, message.next_try_at = "sent", None
        elif sent.kind == "rejected" or message.tries >= MAX_TRIES:
            message.state, message.next_try_at = "failed", None
        else:
            message.next_try_at = at + RETRY * min(2 ** (message.tries - 1), 64)
        message.save()
        if message.request_id is None:
            return sent.kind
        request = PortingRequest.objects.select_for_update().select_related("brand").get(pk=message.request_id)
        if sent.correlation_id and not request.correlation_id:
            request.correlation_id = sent.correlation_id
            request.save(update_fields=["correlation_id"])
        if message.kind == "submit" and message.state == "failed":
            # refused by the clearing house itself (or never reached): the port-in ends here
            record_answer(request, accepted=False, code=sent.code or "UNREACHABLE", reason=sent.message,
                          at=at, actor=Actor.system("porting"))
    return sent.kind


def send_pending(*, at: dt.datetime, brand_ids=None, limit: int = 200) -> int:
    """The outgoing messages whose try is due (new ones whose send after commit did not happen, retries)."""
    due = PortingMessage.objects.filter(state="pending", next_try_at__lte=at).order_by("next_try_at", "id")
    if brand_ids is not None:
        due = due.filter(brand_id__in=brand_ids)
    ids = list(due.values_list("pk", flat=True)[:limit])
    for pk in ids:
        send_message(pk, at=at)
    return len(ids)


def receive_callback(house: ClearingHouse, *, headers: dict, body: bytes, at: dt.datetime) -> PortingRequest | None:
    """A signed callback of the clearing house. SignatureError (logged) if it is not signed with its secret.
    A repeated or late event is logged and changes nothing."""
    plain_headers = {str(k): str(v)[:500] for k, v in dict(headers).items()}
    text = body[:64_000].decode(errors="replace")
    try:
        received = get_adapter(house.adapter).read_callback(headers, body, credentials(house), now=time.time())
    except SignatureError as exc:
        logger.warning("porting: callback for %s refused: %s", house.brand_id, exc)
        PortingMessage.objects.create(brand_id=house.brand_id, clearing_house=house, direction="in", kind="callback",
                                      state="refused", request_headers=mask(plain_headers), request_body=mask_text(text),
                                      status_code=401, error=str(exc)[:500], at=at)
        raise
    with transaction.atomic():
        request, outcome = _dispatch(house, received, at=at)
        PortingMessage.objects.create(brand_id=house.brand_id, request=request, clearing_house=house, direction="in",
                                      kind=received.event[:24] or "callback", state=outcome,
                                      request_headers=mask(plain_headers), request_body=mask_text(text),
                                      status_code=200, at=at)
    return request


def _dispatch(house: ClearingHouse, received: Received, *, at: dt.datetime) -> tuple[PortingRequest | None, str]:
    actor = Actor.system("porting")
    if received.event == "port_out_request":
        return receive_port_out(house, received, at=at), "done"
    requests = PortingRequest.objects.select_for_update().select_related("brand").filter(brand_id=house.brand_id)
    request = None
    if received.idempotency_key:
        request = requests.filter(idempotency_key=received.idempotency_key).first()
    if request is None and received.correlation_id:
        request = requests.filter(correlation_id=received.correlation_id).first()
    if request is None:
        return None, "unknown"
    if received.correlation_id and not request.correlation_id:
        request.correlation_id = received.correlation_id
        request.save(update_fields=["correlation_id"])
    if received.event == "port_answer" and request.direction == "in":
        done = record_answer(request, accepted=received.status == "accepted", code=received.code,
                             reason=received.message, window=received.window_start, at=at, actor=actor)
        return request, "done" if done else "ignored"
    return request, "noted"  # port_completed, port_cancelled: the clearing house's broadcast, kept in the log


# --- the flow that waits ---------------------------------------------------------------------------

def notify_flow(request_id: int, *, at: dt.datetime) -> bool:
    """Tell the port-in flow waiting for the donor's answer (BPMN message `porting_answer`). True once told,
    or when there is nothing to tell; the periodic job tries again otherwise."""
    from telora.workflows.models import FlowInstance
    from telora.workflows.services import deliver_message

    request = PortingRequest.objects.select_related("flow_instance").filter(pk=request_id).first()
    if request is None or request.flow_instance_id is None or request.notified_at or request.state == "submitted":
        return True
    instance = request.flow_instance
    payload = {"porting_request": request.pk, "porting_state": request.state}
    if len(json.dumps(instance.data, default=str)) < 48_000:
        payload = {**instance.data, **payload}
    delivered = deliver_message(MESSAGE, instance.correlation, payload, actor=Actor.system("porting"), at=at,
                                brand_ids=[request.brand_id])
    instance.refresh_from_db(fields=["state"])
    done = bool(delivered) or instance.state not in (FlowInstance.RUNNING, FlowInstance.WAITING)
    if done:
        PortingRequest.objects.filter(pk=request.pk).update(notified_at=at)
    return done


def notify_pending(*, at: dt.datetime, brand_ids=None) -> int:
    pending = PortingRequest.objects.filter(direction="in", notified_at__isnull=True, flow_instance__isnull=False,
                                            answered_at__gte=at - NOTIFY_FOR).exclude(state__in=("draft", "submitted"))
    if brand_ids is not None:
        pending = pending.filter(brand_id__in=brand_ids)
    return sum(notify_flow(pk, at=at) for pk in pending.values_list("pk", flat=True)[:500])
