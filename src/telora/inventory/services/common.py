"""Helpers shared by the inventory services: rights, brand policy, resolving identifiers, bulk audit."""

from __future__ import annotations

import datetime as dt

from telora.core import rights
from telora.core.models import AuditEvent, Brand
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.core.services.audit import flush_pending
from telora.inventory.models import (
    DEFAULT_QUARANTINE_DAYS,
    DEFAULT_RESERVATION_MINUTES,
    InventorySettings,
    NumberGroup,
    PhoneNumber,
    SimCard,
)
from telora.inventory.validation import InvalidValue, clean_iccid, clean_number


def is_job(actor: Actor) -> bool:
    return bool(actor.job) and actor.principal is None


def require(actor: Actor, brand, perm: str) -> None:
    """Background jobs and the CLI (actors without a principal) act for the platform."""
    if is_job(actor):
        return
    if not rights.has_perm(actor.principal, brand, perm):
        raise PermissionDeniedError(f"You lack {perm} in brand {getattr(brand, 'code', brand)}.")


def policy(brand) -> InventorySettings:
    """The brand's settings row, or an unsaved one holding the defaults."""
    found = InventorySettings.objects.filter(brand=brand).first()
    return found or InventorySettings(brand_id=getattr(brand, "pk", brand), quarantine_days=DEFAULT_QUARANTINE_DAYS,
                                      reservation_minutes=DEFAULT_RESERVATION_MINUTES)


def quarantine_days(brand, group: NumberGroup | None) -> int:
    if group is not None and group.quarantine_days is not None:
        return group.quarantine_days
    return policy(brand).quarantine_days


def reservation_ttl(brand, ttl: dt.timedelta | None) -> dt.timedelta:
    if ttl is None:
        return dt.timedelta(minutes=policy(brand).reservation_minutes)
    if ttl <= dt.timedelta(0):
        raise ServiceError("ttl: a reservation must last some time", field="ttl")
    return ttl


def number_digits(brand: Brand, number) -> str:
    if isinstance(number, PhoneNumber):
        if number.brand_id != brand.pk:
            raise ServiceError("number: belongs to another brand", field="number")
        return number.number
    try:
        return clean_number(str(number), brand.country)
    except InvalidValue as exc:
        raise ServiceError(f"number: {exc}", field="number") from None


def iccid_of(brand: Brand, sim) -> str:
    if isinstance(sim, SimCard):
        if sim.brand_id != brand.pk:
            raise ServiceError("iccid: belongs to another brand", field="iccid")
        return sim.iccid
    try:
        return clean_iccid(str(sim))
    except InvalidValue as exc:
        raise ServiceError(f"iccid: {exc}", field="iccid") from None


def group_of(brand: Brand, group) -> NumberGroup | None:
    if group is None or isinstance(group, NumberGroup):
        if group is not None and group.brand_id != brand.pk:
            raise ServiceError("group: belongs to another brand", field="group")
        return group
    found = NumberGroup.objects.filter(brand=brand, code=group).first()
    if found is None:
        raise ServiceError(f"group: unknown number group {group!r}", field="group")
    return found


def audit_rows(*, actor: Actor, at: dt.datetime, action: str, rows, message: str = "") -> int:
    """One AuditEvent per row for bulk paths: rows are (brand_id, object_type, id, repr, changes)."""
    events = [
        AuditEvent(at=at, actor_user=actor.user, actor_api_key=actor.api_key, actor_label=actor.label[:200],
                   brand_id=brand_id, object_type=object_type, object_id=str(pk), object_repr=text[:200],
                   action=action, changes=changes, message=message, request_id=actor.request_id,
                   address=actor.address)
        for brand_id, object_type, pk, text, changes in rows
    ]
    flush_pending()  # the events a batched unit of work recorded before these come first
    AuditEvent.objects.bulk_create(events, batch_size=2000)
    return len(events)


def known_sim_types(brand: Brand) -> frozenset[str] | None:
    """The SIM type codes the brand's catalogue offers, or None when it defines none (any code goes)."""
    from telora.catalog.selectors import sim_type_codes

    return sim_type_codes(brand) or None


def sim_type_problems(code: str, known: frozenset[str] | None) -> list[tuple[str, str]]:
    if not code or known is None or code in known:
        return []
    return [("sim_type", f"unknown SIM type {code!r} (the catalogue has {', '.join(sorted(known))})")]
