"""TMF681 Communication Management v4: letters as `communicationMessage` resources.

A Telora letter is one CommunicationMessage: `messageType` Email, SMS or Letter (printed), one
`receiver` (the customer: `id` is Telora's customer id, with the e-mail address or phone number the
letter went to), `sender` the brand, `state` initial (queued), inProgress (sending), completed
(sent or delivered) or failed (failed or bounced); Telora's own state, the error and the gateway's
reference travel as characteristics. POST sends a message to one customer, either through a
template (characteristic `templateCode`) or with the `subject` and `content` given (checked like a
template: placeholders such as {{ customer.name }} work). As in the spec's CommunicationMessage_Create,
`content`, `receiver`, `sender` and `messageType` are required (a missing one is a 400 naming it);
`content` may be empty when `templateCode` gives the text, and `sender.id`, when given, must be the
customer's brand code. An `Idempotency-Key` header makes a repeated POST return the first message.
List and get take `fields` (attribute selection), the list `offset` and `limit`. Reading needs letters.view, sending letters.send; another
brand's message or customer is a 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Status

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.main import make_api
from telora.api.paging import Paging, page
from telora.api.tmf import TMF, Ref, TmfSchema, key, select_fields, selectable, wanted_fields
from telora.core import clock, rights
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.customers.selectors import customers_for_user
from telora.letters.models import Letter
from telora.letters.services.outbox import queue_letter

router = Router(tags=["communicationMessage"])
BASE = "/tmf-api/communicationManagement/v4/communicationMessage"
CUSTOMER_BASE = "/tmf-api/customerManagement/v4/customer"
TYPES = {"email": "Email", "sms": "SMS", "print": "Letter"}
CHANNEL_OF = {value.lower(): channel for channel, value in TYPES.items()}
STATES = {"queued": "initial", "sending": "inProgress", "sent": "completed", "delivered": "completed",
          "failed": "failed", "bounced": "failed"}


class Characteristic(TmfSchema):
    name: str
    value: Any = None
    valueType: str | None = None


class Receiver(TmfSchema):
    id: str | None = None
    name: str | None = None
    email: str | None = None
    phoneNumber: str | None = None
    party: Ref | None = None


class Sender(TmfSchema):
    id: str | None = None
    name: str | None = None


class Attachment(TmfSchema):
    name: str | None = None
    mimeType: str | None = None


class MessageOut(TmfSchema):
    """The spec's CommunicationMessage: every attribute but id, href and @type may be left out by `fields`."""

    id: str
    href: str
    messageType: str | None = None
    state: str | None = None
    subject: str | None = None
    content: str | None = None
    tryTimes: int | None = None
    sendTime: dt.datetime | None = None
    sendTimeComplete: dt.datetime | None = None
    receiver: list[Receiver] | None = None
    sender: Sender | None = None
    attachment: list[Attachment] | None = None
    characteristic: list[Characteristic] | None = None
    type: str = Field("CommunicationMessage", alias="@type")


FIELDS = selectable(MessageOut)


class MessageCreate(TmfSchema):
    """The spec's CommunicationMessage_Create: content, receiver, sender and messageType are required."""

    messageType: str = Field(description="Email, SMS or Letter (printed)")
    receiver: list[Receiver] = Field(description="exactly one: id = Telora customer id; email or phoneNumber "
                                                 "overrides the customer's own (checked)")
    sender: Sender = Field(description="the brand: id, when given, is the receiver's brand code")
    content: str = Field(max_length=20_000, description="the text (placeholders allowed); may be empty when a "
                                                        "templateCode characteristic gives the text")
    subject: str | None = Field(None, max_length=300)
    characteristic: list[Characteristic] = Field(default_factory=list, description="templateCode: send "
                                                                                   "through this template")


class MessageFilter(TmfSchema):
    customer: str | None = Field(None, alias="receiver.id", description="Telora customer id")
    state: str | None = Field(None, description="initial, inProgress, completed or failed")
    messageType: str | None = None
    fields: str | None = Field(None, description="attributes to return, comma separated (id, href, @type always)")


def render(letter: Letter) -> dict:
    receiver = {"id": str(letter.customer_id) if letter.customer_id else None,
                "name": letter.customer.name if letter.customer_id else None}
    if letter.channel == "email":
        receiver["email"] = letter.recipient
    elif letter.channel == "sms":
        receiver["phoneNumber"] = f"+{letter.recipient}"
    if letter.customer_id:
        receiver["party"] = {"id": str(letter.customer_id), "href": f"{CUSTOMER_BASE}/{letter.customer_id}",
                             "@referredType": "Customer"}
    characteristic = [{"name": "teloraState", "value": letter.state, "valueType": "string"},
                      {"name": "purpose", "value": letter.purpose, "valueType": "string"}]
    if letter.template_id:
        characteristic.append({"name": "templateCode", "value": letter.template.code, "valueType": "string"})
    if letter.error:
        characteristic.append({"name": "error", "value": letter.error, "valueType": "string"})
    if letter.provider_ref:
        characteristic.append({"name": "providerReference", "value": letter.provider_ref, "valueType": "string"})
    return {
        "id": str(letter.pk), "href": f"{BASE}/{letter.pk}", "@type": "CommunicationMessage",
        "messageType": TYPES[letter.channel], "state": STATES[letter.state], "subject": letter.subject or None,
        "content": letter.text or letter.html or None, "tryTimes": letter.tries, "sendTime": letter.sent_at,
        "sendTimeComplete": letter.delivered_at, "receiver": [receiver],
        "sender": {"id": letter.brand.code, "name": letter.brand.name},
        "attachment": [{"name": a["name"], "mimeType": a.get("content_type")} for a in letter.attachments],
        "characteristic": characteristic,
    }


def _letters(request):
    require_perm(request, "letters.view")
    return Letter.objects.for_user(principal(request)).select_related("brand", "customer", "template")


@router.get("/communicationMessage", response={200: list[MessageOut], **ERRORS}, **TMF)
def list_messages(request, response: HttpResponse, paging: Query[Paging], filters: Query[MessageFilter]):
    """Messages the caller may see, newest first."""
    rows = _letters(request)
    if filters.customer:
        rows = rows.filter(customer_id=key(filters.customer))
    if filters.state:
        rows = rows.filter(state__in=[s for s, tmf in STATES.items() if tmf == filters.state])
    if filters.messageType:
        rows = rows.filter(channel=CHANNEL_OF.get(filters.messageType.lower(), "-"))
    wanted = wanted_fields(filters.fields, FIELDS)
    return [select_fields(render(letter), wanted)
            for letter in page(rows.order_by("-created_at", "-id"), paging, response)]


@router.get("/communicationMessage/{id}", response={200: MessageOut, **ERRORS}, **TMF)
def retrieve_message(request, id: str, fields: str | None = None):
    wanted = wanted_fields(fields, FIELDS)
    return select_fields(render(get_object_or_404(_letters(request), pk=key(id))), wanted)


@router.post("/communicationMessage", response={201: MessageOut, **ERRORS}, **TMF)
def create_message(request, response: HttpResponse, payload: MessageCreate):
    """Send a message to one customer, through a template or with the text given."""
    require_perm(request, "letters.send")
    channel = CHANNEL_OF.get((payload.messageType or "").lower())
    if channel is None:
        raise ServiceError("messageType: Email, SMS or Letter", field="messageType")
    if len(payload.receiver) != 1 or not payload.receiver[0].id:
        raise ServiceError("receiver: exactly one receiver, with id = the customer's id", field="receiver")
    target = payload.receiver[0]
    customer = get_object_or_404(customers_for_user(principal(request)), pk=key(target.id))
    if not rights.has_perm(principal(request), customer.brand, "letters.send"):
        raise PermissionDeniedError(f"You lack letters.send in brand {customer.brand.code}.")
    if payload.sender.id and payload.sender.id != customer.brand.code:
        raise ServiceError(f"sender: id {payload.sender.id[:40]!r} is not the receiver's brand "
                           f"({customer.brand.code}); a message goes out in the name of the customer's brand",
                           field="sender")
    values = {c.name: c.value for c in payload.characteristic}
    template_code = str(values.get("templateCode") or "")
    if template_code:
        options = {"template_code": template_code[:40]}
    elif payload.content.strip():
        options = {"parts": {"subject": payload.subject or "", "text": payload.content if channel != "print" else "",
                             "html": payload.content if channel == "print" else ""}}
    else:
        raise ServiceError("content: empty; give the text, or a templateCode characteristic", field="content")
    recipient = target.email if channel == "email" else target.phoneNumber if channel == "sms" else None
    idempotency = (request.headers.get("Idempotency-Key") or "").strip()[:100]
    letter = queue_letter(customer.brand, actor=Actor.from_request(request), at=clock.now(),
                          key=f"api:{idempotency}" if idempotency else f"api:{uuid.uuid4().hex}", customer=customer,
                          channel=channel, recipient=recipient or None, check_recipient=True, **options)
    response["Location"] = f"{BASE}/{letter.pk}"
    return Status(201, render(Letter.objects.select_related("brand", "customer", "template").get(pk=letter.pk)))


communication_api = make_api(title="Communication Management (TMF681)", version="4.0.0",
                             urls_namespace="tmf-communication",
                             description="Telora's letters (e-mail, SMS, printed) in the TMF681 CommunicationMessage "
                                         "shape.")
communication_api.add_router("", router)
