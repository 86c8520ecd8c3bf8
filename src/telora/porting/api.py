"""/api/v1/porting: the porting requests the caller may see (list with filters, one by id), and the
operators of a country. A port-in is asked for through the order API: a TMF622 productOrder of category
`port_in` whose item carries the characteristics `number`, `donor`, `requested_date` and the customer's
authorisation (`account_number`, `pin`, `id_number`; sealed by the porting app, never kept in the order)
and the plan as its productOffering. Another brand's request is a 404.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.core.services.actors import ServiceError
from telora.porting.models import STATES, Operator
from telora.porting.selectors import requests_for_user

router = Router(tags=["porting"])


class PortingRequestOut(Schema):
    id: int
    brand: str = Field(alias="brand.code")
    direction: str
    state: str
    number: str
    donor: str = Field(alias="donor_code")
    recipient: str = Field(alias="recipient_code")
    customer_id: int | None
    subscription_id: int | None
    order_id: int | None
    requested_date: dt.date
    window_at: dt.datetime | None
    answer_deadline: dt.datetime | None
    reason_code: str
    reason: str
    correlation_id: str
    authorisation: str = Field(alias="authorisation_hint", description="which data was given, masked")
    created_at: dt.datetime
    completed_at: dt.datetime | None


class PortingFilter(Schema):
    direction: str | None = Field(None, pattern="^(in|out)$")
    state: str | None = Field(None, max_length=12)
    number: str | None = Field(None, max_length=20, description="E.164 digits, or a part of them")
    operator: str | None = Field(None, max_length=16, description="donor or recipient code")
    date_from: dt.date | None = Field(None, description="requested porting date from")
    date_to: dt.date | None = None


class OperatorOut(Schema):
    country: str
    code: str
    name: str
    kind: str


@router.get("/requests", response={200: list[PortingRequestOut], **ERRORS}, summary="List porting requests")
def list_requests(request, response: HttpResponse, paging: Query[Paging], filters: Query[PortingFilter]):
    require_perm(request, "porting.view")
    rows = requests_for_user(principal(request))
    if filters.direction:
        rows = rows.filter(direction=filters.direction)
    if filters.state:
        if filters.state not in STATES:
            raise ServiceError(f"state: one of {', '.join(STATES)}", field="state")
        rows = rows.filter(state=filters.state)
    if filters.number:
        rows = rows.filter(number__contains=filters.number.lstrip("+").replace(" ", ""))
    if filters.operator:
        code = filters.operator.upper()
        rows = rows.filter(donor_code=code) | rows.filter(recipient_code=code)
    if filters.date_from:
        rows = rows.filter(requested_date__gte=filters.date_from)
    if filters.date_to:
        rows = rows.filter(requested_date__lte=filters.date_to)
    return page(rows.order_by("-created_at", "-id"), paging, response)


@router.get("/requests/{int:request_id}", response={200: PortingRequestOut, **ERRORS}, summary="Get a porting request")
def get_request(request, request_id: int):
    require_perm(request, "porting.view")
    return get_object_or_404(requests_for_user(principal(request)), pk=request_id)


@router.get("/operators", response={200: list[OperatorOut], **ERRORS}, summary="Operators of a country")
def list_operators(request, country: str):
    require_perm(request, "porting.view")
    if len(country) != 2:
        raise ServiceError("country: a two-letter country code (DK, GB, NL)", field="country")
    return list(Operator.objects.filter(country=country.upper()).order_by("name"))
