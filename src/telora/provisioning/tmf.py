"""TMF640 Service Activation and Configuration v4, read only: what the networks know of each line.

Mounted in telora/urls.py at /tmf-api/serviceActivationAndConfiguration/v4/ with its own OpenAPI document.

A **Service** is a line Telora has provisioned (a subscription with at least one provisioning request),
its `id` the subscription's (the same id as its TMF637 Product, linked in `relatedEntity`). Its `state` is
the network's view, read from the line's requests (TMF640 ServiceStateType):

- the last *completed* lifecycle request decides: `create` or `unbar` -> `active`, `bar` -> `inactive`,
  `delete` -> `terminated`;
- none completed yet: a `create` on its way (queued, sent, acknowledged) -> `reserved` (the SIM and number
  are held for it), a `create` that failed or was cancelled -> `designed`;
- no `create` was ever sent (a line created at the operator before Telora provisioned it, e.g. migrated):
  the subscription's status (pending -> `designed`, active -> `active`, suspended -> `inactive`,
  terminated -> `terminated`). `feasibilityChecked` is not used: Telora has no feasibility step.

`serviceCharacteristic` holds MSISDN, ICCID, IMSI, `barred` (the last completed bar/unbar was a bar),
`services` (the product codes of the last completed create or change_services) and `operatorReference`;
`supportingResource` the SIM card and the number; `serviceSpecification` the service type;
`relatedParty` the customer. The latest requests are `note`s naming their **Monitor**.

A **Monitor** is one provisioning request (`id` the request's): `state` InProgress (queued, sent,
acknowledged), Completed, or InError (failed, cancelled); `request` what Telora sent (the last try on the
wire, or the person's work order for a manual target), `response` the latest answer (the operator's
synchronous answer, its callback, or the person's outcome). Bodies and headers are masked as in the log.

Needs provisioning.view; a brand sees its own lines only (another brand's is a 404).
"""

from __future__ import annotations

import json

from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When, Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpResponse
from ninja import Field, Query, Router

from telora.api.auth import require_perm
from telora.api.errors import ERRORS
from telora.api.main import make_api
from telora.api.paging import Paging, page
from telora.api.tmf import (
    TMF,
    TmfSchema,
    id_or_error,
    key,
    select_fields,
    selectable,
    split_values,
    wanted_fields,
)
from telora.core import rights
from telora.core.services.actors import ServiceError
from telora.customers.models import Subscription
from telora.customers.tmf.common import PRODUCT_BASE, Characteristic, customer_ref
from telora.customers.validation import query_digits
from telora.provisioning.adapters import mask, mask_text
from telora.provisioning.models import ProvisioningExchange, ProvisioningRequest

router = Router(tags=["service"])

API_BASE = "/tmf-api/serviceActivationAndConfiguration/v4"
SERVICE_BASE = f"{API_BASE}/service"
MONITOR_BASE = f"{API_BASE}/monitor"
NOTES = 20  # the latest requests shown as notes on a service; all of them are monitors

OPEN = ("queued", "sent", "acknowledged")
LIFECYCLE = ("create", "bar", "unbar", "delete")
SERVICE_STATES = ("feasibilityChecked", "designed", "reserved", "inactive", "active", "terminated")
MONITOR_STATES = {"queued": "InProgress", "sent": "InProgress", "acknowledged": "InProgress",
                  "completed": "Completed", "failed": "InError", "cancelled": "InError"}
FROM_SUBSCRIPTION = {"pending": "designed", "active": "active", "suspended": "inactive", "terminated": "terminated"}


# --- schemas (the spec's names) ---------------------------------------------------------------------------

class Ref(TmfSchema):
    id: str
    href: str | None = None
    name: str | None = None
    role: str | None = None
    referredType: str | None = Field(None, alias="@referredType")


class Note(TmfSchema):
    id: str | None = None
    author: str | None = None
    date: str | None = None
    text: str | None = None
    type: str = Field("Note", alias="@type")


class ServiceOut(TmfSchema):
    id: str
    href: str
    name: str | None = None
    description: str | None = None
    category: str | None = None
    serviceType: str | None = None
    state: str | None = Field(None, description=f"ServiceStateType: {', '.join(SERVICE_STATES)}")
    hasStarted: bool | None = None
    isServiceEnabled: bool | None = None
    isStateful: bool | None = None
    isBundle: bool | None = None
    startMode: str | None = None
    serviceDate: str | None = None
    startDate: str | None = None
    endDate: str | None = None
    serviceCharacteristic: list[Characteristic] | None = None
    serviceSpecification: Ref | None = None
    relatedParty: list[Ref] | None = None
    relatedEntity: list[Ref] | None = None
    supportingResource: list[Ref] | None = None
    note: list[Note] | None = None
    type: str = Field("Service", alias="@type")


class HeaderItem(TmfSchema):
    name: str
    value: str


class MonitorRequest(TmfSchema):
    body: str
    header: list[HeaderItem]
    method: str | None = None
    to: str | None = None
    type: str = Field("Request", alias="@type")


class MonitorResponse(TmfSchema):
    body: str
    header: list[HeaderItem]
    statusCode: str | None = None
    type: str = Field("Response", alias="@type")


class MonitorOut(TmfSchema):
    id: str
    href: str
    sourceHref: str | None = None
    state: str | None = Field(None, description="InProgress, InError, Completed")
    request: MonitorRequest | None = None
    response: MonitorResponse | None = None
    type: str = Field("Monitor", alias="@type")


SERVICE_FIELDS = selectable(ServiceOut)
MONITOR_FIELDS = selectable(MonitorOut)


class ServiceFilter(TmfSchema):
    state: str | None = Field(None, description=f"One or several (comma-separated): {', '.join(SERVICE_STATES)}")
    name: str | None = Field(None, description="The MSISDN (any spelling: +45 20 00 00 01, 004520000001) or circuit id")
    serviceType: str | None = Field(None, description="mobile_postpaid, mobile_prepaid, … (comma-separated: any)")
    relatedParty_id: str | None = Field(None, alias="relatedParty.id", description="The customer's id")
    supportingResource_id: str | None = Field(None, alias="supportingResource.id", description="The SIM's ICCID")
    fields: str | None = Field(None, description="Attributes to return, comma-separated")


class MonitorFilter(TmfSchema):
    state: str | None = Field(None, description="InProgress, InError, Completed (comma-separated: any)")
    sourceHref: str | None = Field(None, description="The service's href")
    service_id: str | None = Field(None, alias="service.id", description="The service's id (Telora's filter)")
    fields: str | None = Field(None, description="Attributes to return, comma-separated")


# --- the network's state of a line --------------------------------------------------------------------

def _brands(request):
    return require_perm(request, "provisioning.view")


def _in(queryset, brands):
    return queryset if brands is rights.ALL else queryset.filter(brand_id__in=brands)


def services_queryset(brands):
    """The lines with a provisioning request in `brands`, each annotated with its `network_state`,
    `barred`, and the times its service started and ended (SQL, so `state` filters and pages)."""
    requests = ProvisioningRequest.objects.filter(subscription=OuterRef("pk"))
    done = requests.filter(state="completed")
    last = done.filter(operation__in=LIFECYCLE).order_by("-completed_at", "-id").values("operation")[:1]
    last_barring = done.filter(operation__in=("bar", "unbar")).order_by("-completed_at", "-id").values("operation")[:1]
    lines = _in(Subscription.objects.filter(Exists(requests)), brands)
    lines = lines.annotate(
        last_lifecycle=Subquery(last), last_barring=Subquery(last_barring),
        create_open=Exists(requests.filter(operation="create", state__in=OPEN)),
        create_sent=Exists(requests.filter(operation="create")),
        started_at=Subquery(done.filter(operation="create").order_by("completed_at", "id").values("completed_at")[:1]),
        deleted_at=Subquery(done.filter(operation="delete").order_by("-completed_at", "-id").values("completed_at")[:1]),
    )
    return lines.annotate(network_state=Case(
        When(last_lifecycle__in=("create", "unbar"), then=Value("active")),
        When(last_lifecycle="bar", then=Value("inactive")),
        When(last_lifecycle="delete", then=Value("terminated")),
        When(create_open=True, then=Value("reserved")),
        When(create_sent=True, then=Value("designed")),
        *(When(status=ours, then=Value(theirs)) for ours, theirs in FROM_SUBSCRIPTION.items()),
        default=Value("designed")))


def in_states(brands, states) -> Q:
    """The lines whose network state is one of `states`, as sets of ids (the same rules as `network_state`,
    each set one pass over the brand's requests, instead of each line's state computed one by one)."""
    requests = _in(ProvisioningRequest.objects.all(), brands)
    lifecycle = requests.filter(state="completed", operation__in=LIFECYCLE)
    last = lifecycle.order_by("subscription_id", "-completed_at", "-id").distinct("subscription_id").values("pk")

    def last_was(*operations):
        return Q(pk__in=requests.filter(pk__in=last, operation__in=operations).values("subscription_id"))

    decided = Q(pk__in=lifecycle.values("subscription_id"))
    creates = requests.filter(operation="create")
    open_create = Q(pk__in=creates.filter(state__in=OPEN).values("subscription_id"))
    any_create = Q(pk__in=creates.values("subscription_id"))
    never = ~decided & ~any_create  # never created through Telora: the subscription's status

    def by_status(state):
        return never & Q(status__in=[ours for ours, theirs in FROM_SUBSCRIPTION.items() if theirs == state])

    rules = {
        "active": last_was("create", "unbar") | by_status("active"),
        "inactive": last_was("bar") | by_status("inactive"),
        "terminated": last_was("delete") | by_status("terminated"),
        "reserved": ~decided & open_create,
        "designed": (~decided & any_create & ~open_create) | by_status("designed"),
    }
    chosen = Q(pk__in=[])
    for state in states:
        chosen |= rules.get(state, Q(pk__in=[]))
    return chosen


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


def _char(name: str, value, value_type: str = "string") -> dict | None:
    if value is None or value == "":
        return None
    return {"name": name, "value": value, "valueType": value_type}


def _note(request: ProvisioningRequest) -> dict:
    text = f"{request.operation} at {request.target.code}: {request.state}"
    if request.correlation_id:
        text += f" (operator's reference {request.correlation_id})"
    if request.error:
        text += f": {request.error_code + ' ' if request.error_code else ''}{request.error}"[:500]
    return {"id": str(request.pk), "author": "provisioning", "date": _iso(request.created_at),
            "text": f"{text}; monitor {MONITOR_BASE}/{request.pk}", "@type": "Note"}


def render_service(line: Subscription, requests: list[ProvisioningRequest]) -> dict:
    """One line as a TMF640 Service; `requests` its latest requests, newest first."""
    configured = next((r for r in requests if r.state == "completed" and r.operation in ("create", "change_services")),
                      None)
    created = next((r for r in requests if r.operation == "create"), None)
    target = (created or (requests[0] if requests else None))
    state = line.network_state
    resources = []
    if line.sim_id:
        resources.append({"id": line.sim.iccid, "name": f"SIM card {line.sim.iccid}", "@referredType": "SimCard"})
    if line.identifier:
        resources.append({"id": line.identifier, "name": f"+{line.identifier}", "@referredType": "PhoneNumber"})
    items = [
        _char("MSISDN", line.identifier), _char("ICCID", line.sim.iccid if line.sim_id else None),
        _char("IMSI", line.sim.imsi if line.sim_id else None),
        _char("barred", line.last_barring == "bar", "boolean"),
        _char("services", (configured.payload.get("services") or None) if configured else None, "array"),
        _char("operatorReference", created.correlation_id if created else None),
    ]
    return {
        "id": str(line.pk), "href": f"{SERVICE_BASE}/{line.pk}", "@type": "Service",
        "name": line.identifier or str(line.pk),
        "description": f"{line.service_type} {line.identifier} on the network".replace("  ", " "),
        "category": "ResourceFacingService", "serviceType": line.service_type, "state": state,
        "hasStarted": line.started_at is not None or state in ("active", "inactive"),
        "isServiceEnabled": state == "active", "isStateful": True, "isBundle": False,
        # TMF: 1 automatically by the managed environment, 3 manually by the provider
        "startMode": ("3" if target.target.adapter == "manual" else "1") if target is not None else None,
        "serviceDate": _iso(line.created_at), "startDate": _iso(line.started_at or line.activated_at),
        "endDate": _iso(line.deleted_at or (line.terminated_at if state == "terminated" else None)),
        "serviceCharacteristic": [item for item in items if item is not None],
        "serviceSpecification": {"id": line.service_type, "name": line.get_service_type_display(),
                                 "@referredType": "ServiceSpecification"},
        "relatedParty": [customer_ref(line.customer)],
        "relatedEntity": [{"id": str(line.pk), "href": f"{PRODUCT_BASE}/{line.pk}", "name": line.identifier or None,
                           "role": "product", "@referredType": "Product"}],
        "supportingResource": resources,
        "note": [_note(r) for r in requests],
    }


def _render_services(lines: list[Subscription], wanted) -> list[dict]:
    """The page's lines with their latest requests (one query, NOTES per line at most)."""
    ids = [line.pk for line in lines]
    ranked = (ProvisioningRequest.objects.filter(subscription_id__in=ids).select_related("target")
              .annotate(rank=Window(RowNumber(), partition_by=[F("subscription_id")],
                                    order_by=[F("created_at").desc(), F("id").desc()]))
              .filter(rank__lte=NOTES).order_by("subscription_id", "rank"))
    by_line: dict[int, list] = {}
    for request in ranked:
        by_line.setdefault(request.subscription_id, []).append(request)
    return [select_fields(render_service(line, by_line.get(line.pk, [])), wanted) for line in lines]


def _lines(brands):
    return services_queryset(brands).select_related("sim", "customer")


@router.get("/service", response={200: list[ServiceOut], **ERRORS}, **TMF)
def list_service(request, response: HttpResponse, paging: Query[Paging], filters: Query[ServiceFilter]):
    """The lines provisioned at a network, by id."""
    wanted = wanted_fields(filters.fields, SERVICE_FIELDS)
    brands = _brands(request)
    lines = services_queryset(brands)
    if filters.state:
        states = split_values(filters.state)
        unknown = sorted(set(states) - set(SERVICE_STATES))
        if unknown:
            raise ServiceError(f"state: unknown state {unknown[0]!r}; known: {', '.join(SERVICE_STATES)}",
                               field="state")
        lines = lines.filter(in_states(brands, states))
    if filters.name:
        digits = query_digits(filters.name)
        lines = lines.filter(identifier__in={filters.name.strip(), digits,
                                             digits[2:] if digits.startswith("00") else digits} - {""})
    if filters.serviceType:
        lines = lines.filter(service_type__in=split_values(filters.serviceType))
    if filters.relatedParty_id:
        lines = lines.filter(customer_id=id_or_error(filters.relatedParty_id, "relatedParty.id"))
    if filters.supportingResource_id:
        lines = lines.filter(sim__iccid=filters.supportingResource_id.strip())
    # The page's ids first, then their state: the state's subqueries run for the page's lines only, not for
    # every line an offset skips (PostgreSQL computes the select list before OFFSET drops the rows).
    ids = page(lines.order_by("id").values_list("pk", flat=True), paging, response)
    return _render_services(list(_lines(brands).filter(pk__in=ids).order_by("id")), wanted)


@router.get("/service/{id}", response={200: ServiceOut, **ERRORS}, **TMF)
def retrieve_service(request, id: str, fields: str | None = None):
    wanted = wanted_fields(fields, SERVICE_FIELDS)
    line = _lines(_brands(request)).filter(pk=key(id)).first()
    if line is None:
        raise Http404(f"No service {id}.")
    return _render_services([line], wanted)[0]


# --- monitors: one provisioning request each ------------------------------------------------------------

def _headers(headers: dict) -> list[dict]:
    return [{"name": str(name), "value": str(value)} for name, value in mask(headers or {}).items()]


def _sent(request: ProvisioningRequest, exchange: ProvisioningExchange | None) -> dict:
    """What Telora asked: the last try on the wire, the work order given to a person, or (not sent yet)
    the request as it will go."""
    target = request.target
    manual = target.adapter == "manual"
    where = f"desk:{target.desk}" if manual else (target.url or target.code)
    if exchange is not None and exchange.kind == "request":
        return {"@type": "Request", "method": "POST", "to": exchange.url or where,
                "header": _headers(exchange.request_headers) or [{"name": "Idempotency-Key",
                                                                   "value": request.idempotency_key}],
                "body": exchange.request_body}
    body = exchange.request_body if exchange is not None else mask_text(json.dumps(
        {"idempotency_key": request.idempotency_key, "operation": request.operation, "payload": request.payload}))
    return {"@type": "Request", "method": "manual" if manual else "POST", "to": where,
            "header": [{"name": "Idempotency-Key", "value": request.idempotency_key}], "body": body}


def _answer(exchange: ProvisioningExchange) -> dict:
    """The latest answer. A synchronous answer's headers are not kept: its header list carries the log's
    exchange id and outcome instead; a callback's are its own (masked)."""
    meta = [{"name": "X-Telora-Exchange", "value": str(exchange.pk)},
            {"name": "X-Telora-Outcome", "value": exchange.outcome or exchange.kind}]
    if exchange.kind == "callback":
        return {"@type": "Response", "statusCode": str(exchange.status_code or 200),
                "header": _headers(exchange.request_headers) + meta, "body": exchange.request_body}
    if exchange.kind == "manual":  # the person's outcome
        return {"@type": "Response", "header": meta, "body": exchange.request_body}
    return {"@type": "Response", "statusCode": str(exchange.status_code) if exchange.status_code else None,
            "header": meta, "body": exchange.response_body or exchange.error}


def render_monitor(request: ProvisioningRequest, exchanges: list[ProvisioningExchange]) -> dict:
    """One request as a TMF640 Monitor; `exchanges` its exchanges in time order."""
    sent = [e for e in exchanges if e.kind == "request" or (e.kind == "manual" and e.outcome == "waiting")]
    answers = [e for e in exchanges if e.kind == "callback" or e.status_code or e.response_body
               or (e.kind == "manual" and e.outcome != "waiting")]
    monitor = {"id": str(request.pk), "href": f"{MONITOR_BASE}/{request.pk}", "@type": "Monitor",
               "state": MONITOR_STATES[request.state], "request": _sent(request, sent[-1] if sent else None)}
    if request.subscription_id:
        monitor["sourceHref"] = f"{SERVICE_BASE}/{request.subscription_id}"
    if answers:
        monitor["response"] = _answer(answers[-1])
    return monitor


def _render_monitors(requests: list[ProvisioningRequest], wanted) -> list[dict]:
    exchanges: dict[int, list] = {}
    if wanted is None or wanted & {"request", "response"}:
        for exchange in ProvisioningExchange.objects.filter(request_id__in=[r.pk for r in requests]).order_by("at", "id"):
            exchanges.setdefault(exchange.request_id, []).append(exchange)
    return [select_fields(render_monitor(r, exchanges.get(r.pk, [])), wanted) for r in requests]


def _requests(brands):
    return _in(ProvisioningRequest.objects.select_related("target"), brands)


@router.get("/monitor", response={200: list[MonitorOut], **ERRORS}, **TMF)
def list_monitor(request, response: HttpResponse, paging: Query[Paging], filters: Query[MonitorFilter]):
    """Provisioning requests, newest first."""
    wanted = wanted_fields(filters.fields, MONITOR_FIELDS)
    rows = _requests(_brands(request))
    if filters.state:
        states = split_values(filters.state)
        unknown = sorted(set(states) - set(MONITOR_STATES.values()))
        if unknown:
            raise ServiceError(f"state: unknown state {unknown[0]!r}; known: InProgress, InError, Completed",
                               field="state")
        rows = rows.filter(state__in=[ours for ours, theirs in MONITOR_STATES.items() if theirs in states])
    if filters.service_id is not None:
        rows = rows.filter(subscription_id=id_or_error(filters.service_id, "service.id"))
    if filters.sourceHref:
        prefix = f"{SERVICE_BASE}/"
        line = filters.sourceHref.removeprefix(prefix)
        if not filters.sourceHref.startswith(prefix) or not line.isascii() or not line.isdigit():
            raise ServiceError(f"sourceHref: a service's href ({prefix}<id>)", field="sourceHref")
        rows = rows.filter(subscription_id=key(line))
    return _render_monitors(page(rows.order_by("-created_at", "-id"), paging, response), wanted)


@router.get("/monitor/{id}", response={200: MonitorOut, **ERRORS}, **TMF)
def retrieve_monitor(request, id: str, fields: str | None = None):
    wanted = wanted_fields(fields, MONITOR_FIELDS)
    found = _requests(_brands(request)).filter(pk=key(id)).first()
    if found is None:
        raise Http404(f"No monitor {id}.")
    return _render_monitors([found], wanted)[0]


service_api = make_api(
    title="Service Activation and Configuration (TMF640)", version="4.0.0",
    urls_namespace="tmf-service-activation",
    description="What the networks know of each line: services (state, MSISDN, ICCID, IMSI, barring) and "
                "monitors (each provisioning request's progress, bodies masked). Read only; needs "
                "provisioning.view, a brand sees its own lines only.",
)
service_api.add_router("", router)
