"""Reads of the inventory shared by the GUI, the API and other apps, each starting from the principal's rights."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count

from telora.core import clock, rights
from telora.core.models import ApiKey, Brand
from telora.core.services.actors import Actor, PermissionDeniedError
from telora.core.services.audit import record_event
from telora.inventory import sealing
from telora.inventory.models import ImportBatch, NumberGroup, PhoneNumber, SimCard, free_q


def sims_for_user(principal, action: str = "view"):
    return SimCard.objects.for_user(principal, action)


def numbers_for_user(principal, action: str = "view"):
    return PhoneNumber.objects.for_user(principal, action).select_related("group")


def number_groups_for_user(principal, action: str = "view"):
    return NumberGroup.objects.for_user(principal, action)


def import_batches_for_user(principal, action: str = "view"):
    return ImportBatch.objects.for_user(principal, action)


def free_numbers(brand: Brand, *, at: dt.datetime, group: NumberGroup | str | None = None, contains: str = ""):
    """Numbers a CSR may offer (free now, including run-out reservations), e.g. for a number picker."""
    rows = PhoneNumber.objects.filter(brand=brand).filter(free_q(PhoneNumber, at)).select_related("group")
    if isinstance(group, NumberGroup):
        rows = rows.filter(group=group)
    elif group:
        rows = rows.filter(group__code=group)
    if contains:
        rows = rows.filter(number__contains="".join(ch for ch in contains if ch.isdigit()))
    return rows.order_by("number")


def free_sims(brand: Brand, *, at: dt.datetime, sim_type: str | None = None):
    rows = SimCard.objects.filter(brand=brand).filter(free_q(SimCard, at))
    if sim_type is not None:
        rows = rows.filter(sim_type=sim_type)
    return rows.order_by("sim_type", "iccid")


def inventory_stats(brand: Brand, *, at: dt.datetime | None = None) -> dict:
    """Counts by status (SIMs also by type, numbers also by group), with run-out holds counted as free."""
    at = at or clock.now()
    sims = {row["status"]: row["n"] for row in
            SimCard.objects.filter(brand=brand).values("status").annotate(n=Count("id")).order_by()}
    numbers = {row["status"]: row["n"] for row in
               PhoneNumber.objects.filter(brand=brand).values("status").annotate(n=Count("id")).order_by()}
    sim_types = {row["sim_type"] or "": row["n"] for row in
                 SimCard.objects.filter(brand=brand).filter(free_q(SimCard, at)).values("sim_type")
                 .annotate(n=Count("id")).order_by("sim_type")}
    groups = {row["group__code"] or "": row["n"] for row in
              PhoneNumber.objects.filter(brand=brand).filter(free_q(PhoneNumber, at)).values("group__code")
              .annotate(n=Count("id")).order_by("group__code")}
    return {
        "sims": {"by_status": sims, "total": sum(sims.values()), "free": sum(sim_types.values()),
                 "free_by_type": sim_types},
        "numbers": {"by_status": numbers, "total": sum(numbers.values()), "free": sum(groups.values()),
                    "free_by_group": groups},
    }


def sim_secrets(sim: SimCard, principal, *, at: dt.datetime | None = None, actor: Actor | None = None) -> dict:
    """PIN1, PUK1, PIN2 and PUK2 of a card, for a principal holding `inventory.secrets` in its brand.

    Every reading is recorded as an audit event ("view_secrets"); a refusal raises PermissionDeniedError.
    """
    if not rights.has_perm(principal, sim.brand_id, "inventory.secrets"):
        raise PermissionDeniedError("You lack inventory.secrets: PIN and PUK codes stay hidden.")
    if actor is None:
        actor = Actor(api_key=principal) if isinstance(principal, ApiKey) else Actor(user=principal)
    codes = sealing.unseal(sim.sealed_secrets, brand_id=sim.brand_id, iccid=sim.iccid)
    record_event(actor=actor, at=at or clock.now(), action="view_secrets", obj=sim, brand=sim.brand,
                 message="PIN/PUK codes shown")
    return codes
