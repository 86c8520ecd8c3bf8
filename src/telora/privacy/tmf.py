"""TMF644 Privacy Management v4: consents as `partyPrivacyProfile` resources.

One Telora consent decision (customer, purpose, granted, at, channel, source) is one
PartyPrivacyProfile: `agreedByParty` and `applicableForParty` are the customer, the one
`partyPrivacyProfileCharacteristic` with a `privacyUsagePurpose` holds the purpose and (as `value`)
whether it was granted; `channel` and `source` travel as two more characteristics. `validFor` runs
from the decision to the next decision about the same purpose; `status` is "active" for the decision
that holds now and "terminated" for the history. POST records a new decision (one purpose per call).
Reading needs customers.view, recording customers.change; another brand's consent or customer is a 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F, Window
from django.db.models.functions import Lead
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Status

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.main import make_api
from telora.api.paging import Paging, page
from telora.api.tmf import TMF, Ref, TimePeriod, TmfSchema
from telora.core import clock
from telora.core.services.actors import Actor, ServiceError
from telora.customers.selectors import customers_for_user
from telora.privacy.constants import CHANNELS, PURPOSES
from telora.privacy.models import Consent
from telora.privacy.services import record_consent

router = Router(tags=["partyPrivacyProfile"])
BASE = "/tmf-api/privacyManagement/v4/partyPrivacyProfile"
CUSTOMER_BASE = "/tmf-api/customerManagement/v4/customer"
SPECIFICATION = {"id": "telora-consent", "name": "Consent per purpose",
                 "@referredType": "PartyPrivacyProfileSpecification"}


class ProfileCharacteristic(TmfSchema):
    name: str
    value: Any = None
    valueType: str | None = None
    privacyUsagePurpose: str | None = None


class ProfileOut(TmfSchema):
    id: str
    href: str
    name: str
    status: str
    creationDate: dt.datetime
    agreedByParty: Ref
    applicableForParty: Ref
    partyPrivacyProfileCharacteristic: list[ProfileCharacteristic]
    partyPrivacyProfileSpecification: Ref
    validFor: TimePeriod
    type: str = Field("PartyPrivacyProfile", alias="@type")


class ProfileCreate(TmfSchema):
    agreedByParty: Ref = Field(description="The customer (id: Telora's customer id)")
    partyPrivacyProfileCharacteristic: list[ProfileCharacteristic] = Field(
        description=f"one with privacyUsagePurpose ({', '.join(PURPOSES)}) and a boolean value (granted); "
                    f"optional `channel` ({', '.join(CHANNELS)}, default api) and `source`")
    partyPrivacyProfileSpecification: Ref | None = None
    validFor: TimePeriod | None = Field(None, description="startDateTime: when it was given (default now)")


class ProfileFilter(TmfSchema):
    customer: str | None = Field(None, alias="agreedByParty.id", description="Telora customer id")
    purpose: str | None = None
    status: str | None = Field(None, description="active (holds now) or terminated (history)")


def _party(customer) -> dict:
    return {"id": str(customer.pk), "href": f"{CUSTOMER_BASE}/{customer.pk}", "name": customer.name,
            "role": "customer", "@referredType": "Customer"}


def _consents(request):
    require_perm(request, "customers.view")
    return (Consent.objects.for_user(principal(request)).select_related("customer")
            .annotate(next_at=Window(Lead("at"), partition_by=[F("customer_id"), F("purpose")],
                                     order_by=[F("at").asc(), F("id").asc()])))


def render(consent: Consent) -> dict:
    next_at = getattr(consent, "next_at", None)
    characteristics = [
        {"name": consent.purpose, "privacyUsagePurpose": consent.purpose, "value": consent.granted,
         "valueType": "boolean"},
        {"name": "channel", "value": consent.channel, "valueType": "string"},
    ]
    if consent.source:
        characteristics.append({"name": "source", "value": consent.source, "valueType": "string"})
    return {
        "id": str(consent.pk), "href": f"{BASE}/{consent.pk}", "@type": "PartyPrivacyProfile",
        "name": f"{consent.purpose}: {'granted' if consent.granted else 'refused'}",
        "status": "terminated" if next_at else "active", "creationDate": consent.created_at,
        "agreedByParty": _party(consent.customer), "applicableForParty": _party(consent.customer),
        "partyPrivacyProfileCharacteristic": characteristics, "partyPrivacyProfileSpecification": SPECIFICATION,
        "validFor": {"startDateTime": consent.at, "endDateTime": next_at},
    }


@router.get("/partyPrivacyProfile", response={200: list[ProfileOut], **ERRORS}, **TMF)
def list_profiles(request, response: HttpResponse, paging: Query[Paging], filters: Query[ProfileFilter]):
    """Consent decisions the caller may see, newest first; `agreedByParty.id` narrows to one customer."""
    rows = _consents(request)
    if filters.customer:
        rows = rows.filter(customer_id=int(filters.customer) if filters.customer.isdigit() else 0)
    if filters.purpose:
        rows = rows.filter(purpose=filters.purpose)
    result = [render(c) for c in page(rows.order_by("-at", "-id"), paging, response)]
    if filters.status:  # computed from the window; filtered on the page
        result = [r for r in result if r["status"] == filters.status]
    return result


@router.get("/partyPrivacyProfile/{id}", response={200: ProfileOut, **ERRORS}, **TMF)
def retrieve_profile(request, id: str):
    rows = _consents(request)
    consent = get_object_or_404(Consent.objects.for_user(principal(request)), pk=int(id) if id.isdigit() else 0)
    return render(_with_next(rows, consent))


def _with_next(rows, consent: Consent) -> Consent:
    """The consent with its window's `next_at` (the window needs the purpose's other rows, not only this one)."""
    for row in rows.filter(customer_id=consent.customer_id, purpose=consent.purpose):
        if row.pk == consent.pk:
            return row
    return consent


@router.post("/partyPrivacyProfile", response={201: ProfileOut, **ERRORS}, **TMF)
def create_profile(request, response: HttpResponse, payload: ProfileCreate):
    """Record one consent decision of a customer."""
    require_perm(request, "customers.change")
    party_id = payload.agreedByParty.id
    customer = get_object_or_404(customers_for_user(principal(request)), pk=int(party_id) if party_id.isdigit() else 0)
    purposes = [c for c in payload.partyPrivacyProfileCharacteristic if c.privacyUsagePurpose]
    if len(purposes) != 1:
        raise ServiceError("partyPrivacyProfileCharacteristic: give exactly one characteristic with a "
                           "privacyUsagePurpose", field="partyPrivacyProfileCharacteristic")
    item = purposes[0]
    if not isinstance(item.value, bool):
        raise ServiceError("partyPrivacyProfileCharacteristic.value: true (granted) or false (refused)",
                           field="partyPrivacyProfileCharacteristic.value")
    extra = {c.name: c.value for c in payload.partyPrivacyProfileCharacteristic if not c.privacyUsagePurpose}
    unknown = sorted(set(extra) - {"channel", "source"})
    if unknown:
        raise ServiceError(f"partyPrivacyProfileCharacteristic.name: unknown {', '.join(unknown)}; known: channel, "
                           "source", field="partyPrivacyProfileCharacteristic.name")
    given_at = payload.validFor.startDateTime if payload.validFor and payload.validFor.startDateTime else None
    consent = record_consent(customer, actor=Actor.from_request(request), at=clock.now(),
                             purpose=item.privacyUsagePurpose, granted=item.value,
                             channel=str(extra.get("channel") or "api"), source=str(extra.get("source") or ""),
                             given_at=given_at)
    response["Location"] = f"{BASE}/{consent.pk}"
    return Status(201, render(_with_next(_consents(request), consent)))


privacy_api = make_api(title="Privacy Management (TMF644)", version="4.0.0", urls_namespace="tmf-privacy",
                       description="Telora consents per purpose in the TMF644 PartyPrivacyProfile shape.")
privacy_api.add_router("", router)
