"""Recording a customer's consent decision: a new row each time, so the history stays."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from telora.core import rights
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.core.services.audit import record_event
from telora.customers.models import Customer
from telora.privacy.constants import CHANNELS, PURPOSES
from telora.privacy.models import Consent, Erasure


@transaction.atomic
def record_consent(customer: Customer, *, actor: Actor, at: dt.datetime, purpose: str, granted: bool,
                   channel: str, source: str = "", given_at: dt.datetime | None = None) -> Consent:
    """The customer granted (or refused, or withdrew) `purpose` at `given_at` (default: now)."""
    if actor.principal is not None and not rights.has_perm(actor.principal, customer.brand, "customers.change"):
        raise PermissionDeniedError("You lack customers.change to record consents.")
    if purpose not in PURPOSES:
        raise ServiceError(f"purpose: {purpose!r} is not one of {', '.join(PURPOSES)}", field="purpose")
    if channel not in CHANNELS:
        raise ServiceError(f"channel: {channel!r} is not one of {', '.join(CHANNELS)}", field="channel")
    if not isinstance(granted, bool):
        raise ServiceError("granted: must be true or false", field="granted")
    given_at = given_at or at
    if given_at.tzinfo is None:
        raise ServiceError("at: give a time zone", field="at")
    if given_at > at:
        raise ServiceError("at: a consent cannot be given in the future", field="at")
    if Erasure.objects.filter(customer=customer).exists():
        raise ServiceError("customer: this customer's data was erased; no consent can be recorded",
                           field="customer", code="conflict")
    consent = Consent.objects.create(brand=customer.brand, customer=customer, purpose=purpose, granted=granted,
                                     at=given_at, channel=channel, source=(source or "")[:200],
                                     recorded_by=actor.label[:200], created_at=at)
    record_event(actor=actor, at=at, action="consent", obj=consent, brand=customer.brand,
                 new={"customer": customer.pk, "purpose": purpose, "granted": granted, "channel": channel})
    return consent
