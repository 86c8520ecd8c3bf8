"""Reserving, allocating and releasing SIM cards and phone numbers (used by order and subscription flows).

"Next free" claims a row with SELECT ... FOR UPDATE SKIP LOCKED, so concurrent allocators never
get the same card or number and never wait on each other. A reservation or quarantine that has
run out counts as free at once: the periodic task (jobs.py) only tidies the rows up.

Every function runs in one transaction, checks `inventory.change` in the brand (actors without a
principal are platform jobs) and records an AuditEvent with the old and new values.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.models import Q

from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event, snapshot
from telora.inventory.models import (
    NUMBER_TRANSITIONS,
    SIM_TRANSITIONS,
    NumberGroup,
    NumberStatus,
    PhoneNumber,
    SimCard,
    SimStatus,
    free_q,
    is_free,
)
from telora.inventory.services import common

SIM_STATE = ["status", "previous_status", "reserved_until", "reserved_for", "allocated_at"]
NUMBER_STATE = ["status", "reserved_until", "reserved_for", "allocated_at", "quarantine_until"]
BATCH = 1000


def _effective(item, at: dt.datetime) -> str:
    return "available" if is_free(item, at) else item.status


def _claim_next(model, brand: Brand, at: dt.datetime, narrow: Q, order: list[str]):
    """Lock one free row nobody else holds: available ones first, then run-out reservations."""
    rows = model.objects.select_for_update(skip_locked=True).filter(brand=brand).filter(narrow)
    found = rows.filter(status="available").order_by(*order).first()
    if found is None:
        found = rows.filter(free_q(model, at)).exclude(status="available").order_by(*order).first()
    return found


def _move(item, target: str, *, transitions, at: dt.datetime, what: str, label: str) -> str:
    current = _effective(item, at)
    if target not in transitions[current]:
        raise ServiceError(f"{what}: {label} is {current} and cannot become {target}", field=what, code="state")
    return current


def _check_reference(item, at: dt.datetime, reference: str, what: str, label: str) -> None:
    """A live reservation is honoured only for the reference it was made for."""
    if item.status == "reserved" and not is_free(item, at) and item.reserved_for != reference:
        held = f" for {item.reserved_for}" if item.reserved_for else ""
        raise ServiceError(f"{what}: {label} is reserved{held} until {item.reserved_until:%Y-%m-%d %H:%M} UTC",
                           field=what, code="reserved")


def _cancel_reservation(item, statuses, *, at: dt.datetime, reference: str, what: str, label: str) -> None:
    """A reserved card or number goes back to stock at once; with `reference`, only the
    reservation made for it (`statuses`: SimStatus or NumberStatus)."""
    if item.status != statuses.RESERVED:
        raise ServiceError(f"{what}: {label} is {item.status}, not reserved", field=what, code="state")
    if reference:
        _check_reference(item, at, reference, what, label)
    item.status = statuses.AVAILABLE
    item.reserved_until = None
    item.reserved_for = ""


# ---- phone numbers ---------------------------------------------------------------------------


def _lock_number(brand: Brand, number) -> PhoneNumber:
    digits = common.number_digits(brand, number)
    found = PhoneNumber.objects.select_for_update().filter(brand=brand, number=digits).first()
    if found is None:
        raise ServiceError(f"number: +{digits} is not in the inventory of {brand.code}", field="number",
                           code="not_found")
    found.brand = brand  # the audit event needs it; saves a query
    return found


def _pick_number(brand: Brand, number, group, at: dt.datetime) -> PhoneNumber:
    if number is not None:
        return _lock_number(brand, number)
    group = common.group_of(brand, group)
    if group is not None:
        choices = [Q(group=group)]
    else:
        # Without a group, never hand out a number that costs something (a gold number):
        # numbers of no group first, then those of active groups without a one-time price.
        free_groups = NumberGroup.objects.filter(brand=brand, is_active=True, one_time_price=0).order_by("code")
        choices = [Q(group__isnull=True)] + [Q(group_id=pk) for pk in free_groups.values_list("pk", flat=True)]
    for narrow in choices:
        found = _claim_next(PhoneNumber, brand, at, narrow, ["number"])
        if found is not None:
            found.brand = brand
            return found
    where = f" in group {group.code}" if group is not None else " without a one-time price"
    raise ServiceError(f"number: no free number{where} in {brand.code}", field="number", code="exhausted")


def _save_number(item: PhoneNumber, old: dict, *, actor: Actor, at: dt.datetime, action: str,
                 message: str = "") -> PhoneNumber:
    item.updated_at = at
    item.save(update_fields=[*NUMBER_STATE, "updated_at"])
    record_event(actor=actor, at=at, action=action, obj=item, brand=item.brand, old=old,
                 new=snapshot(item, NUMBER_STATE), message=message)
    return item


@transaction.atomic
def reserve_number(brand: Brand, number=None, *, actor: Actor, at: dt.datetime, ttl: dt.timedelta | None = None,
                   group=None, reference: str = "") -> PhoneNumber:
    """Hold a number (the chosen one, or the next free one, of `group` if given) until at + ttl.

    Without `group`, "next free" takes numbers of no group, then of free groups (one-time price 0).
    Reserving again with the same reference extends the reservation.
    """
    common.require(actor, brand, "inventory.change")
    ttl = common.reservation_ttl(brand, ttl)
    item = _pick_number(brand, number, group, at)
    old = snapshot(item, NUMBER_STATE)
    renewing = item.status == "reserved" and not is_free(item, at) and item.reserved_for == reference
    if not renewing:
        _check_reference(item, at, reference, "number", item.e164)
        _move(item, NumberStatus.RESERVED, transitions=NUMBER_TRANSITIONS, at=at, what="number", label=item.e164)
    item.status = NumberStatus.RESERVED
    item.reserved_until = at + ttl
    item.reserved_for = reference
    item.allocated_at = item.quarantine_until = None
    return _save_number(item, old, actor=actor, at=at, action="reserve")


@transaction.atomic
def allocate_number(brand: Brand, number=None, *, actor: Actor, at: dt.datetime, group=None,
                    reference: str = "") -> PhoneNumber:
    """Give a number to a subscription: a free one, or one reserved under the same `reference`."""
    common.require(actor, brand, "inventory.change")
    item = _pick_number(brand, number, group, at)
    old = snapshot(item, NUMBER_STATE)
    _check_reference(item, at, reference, "number", item.e164)
    _move(item, NumberStatus.ALLOCATED, transitions=NUMBER_TRANSITIONS, at=at, what="number", label=item.e164)
    item.status = NumberStatus.ALLOCATED
    item.allocated_at = at
    item.reserved_until = item.quarantine_until = None
    item.reserved_for = reference
    return _save_number(item, old, actor=actor, at=at, action="allocate")


@transaction.atomic
def release_number(brand: Brand, number, *, actor: Actor, at: dt.datetime) -> PhoneNumber:
    """A subscription gave the number back: quarantined for the group's (or brand's) days."""
    common.require(actor, brand, "inventory.change")
    item = _lock_number(brand, number)
    old = snapshot(item, NUMBER_STATE)
    _move(item, NumberStatus.QUARANTINED, transitions=NUMBER_TRANSITIONS, at=at, what="number", label=item.e164)
    days = common.quarantine_days(brand, item.group)
    item.status = NumberStatus.QUARANTINED
    item.quarantine_until = at + dt.timedelta(days=days)
    item.allocated_at = item.reserved_until = None
    item.reserved_for = ""
    return _save_number(item, old, actor=actor, at=at, action="release", message=f"quarantined for {days} days")


@transaction.atomic
def cancel_number_reservation(brand: Brand, number, *, actor: Actor, at: dt.datetime,
                              reference: str = "") -> PhoneNumber:
    """Give a reserved number back at once (an abandoned order)."""
    common.require(actor, brand, "inventory.change")
    item = _lock_number(brand, number)
    old = snapshot(item, NUMBER_STATE)
    _cancel_reservation(item, NumberStatus, at=at, reference=reference, what="number", label=item.e164)
    return _save_number(item, old, actor=actor, at=at, action="cancel_reservation")


@transaction.atomic
def end_quarantine(brand: Brand, number, *, actor: Actor, at: dt.datetime) -> PhoneNumber:
    """Make a quarantined number available before its time (e.g. the same customer wants it back)."""
    common.require(actor, brand, "inventory.change")
    item = _lock_number(brand, number)
    old = snapshot(item, NUMBER_STATE)
    if item.status != NumberStatus.QUARANTINED:
        raise ServiceError(f"number: {item.e164} is {item.status}, not quarantined", field="number", code="state")
    item.status = NumberStatus.AVAILABLE
    item.quarantine_until = None
    return _save_number(item, old, actor=actor, at=at, action="end_quarantine")


# ---- SIM cards -----------------------------------------------------------------------------


def _lock_sim(brand: Brand, sim) -> SimCard:
    iccid = common.iccid_of(brand, sim)
    found = SimCard.objects.select_for_update().filter(brand=brand, iccid=iccid).first()
    if found is None:
        raise ServiceError(f"iccid: {iccid} is not in the inventory of {brand.code}", field="iccid", code="not_found")
    found.brand = brand
    return found


def _pick_sim(brand: Brand, sim, sim_type: str | None, at: dt.datetime) -> SimCard:
    if sim is not None:
        return _lock_sim(brand, sim)
    narrow = Q(sim_type=sim_type) if sim_type is not None else Q()
    found = _claim_next(SimCard, brand, at, narrow, ["sim_type", "iccid"])
    if found is None:
        where = f" of type {sim_type}" if sim_type is not None else ""
        raise ServiceError(f"iccid: no free SIM card{where} in {brand.code}", field="iccid", code="exhausted")
    found.brand = brand
    return found


def _save_sim(item: SimCard, old: dict, *, actor: Actor, at: dt.datetime, action: str, message: str = "") -> SimCard:
    item.updated_at = at
    item.save(update_fields=[*SIM_STATE, "updated_at"])
    record_event(actor=actor, at=at, action=action, obj=item, brand=item.brand, old=old,
                 new=snapshot(item, SIM_STATE), message=message)
    return item


@transaction.atomic
def reserve_sim(brand: Brand, sim=None, *, actor: Actor, at: dt.datetime, ttl: dt.timedelta | None = None,
                sim_type: str | None = None, reference: str = "") -> SimCard:
    """Hold a SIM card (the chosen ICCID, or the next free one of `sim_type`) until at + ttl."""
    common.require(actor, brand, "inventory.change")
    ttl = common.reservation_ttl(brand, ttl)
    item = _pick_sim(brand, sim, sim_type, at)
    old = snapshot(item, SIM_STATE)
    renewing = item.status == "reserved" and not is_free(item, at) and item.reserved_for == reference
    if not renewing:
        _check_reference(item, at, reference, "iccid", item.iccid)
        _move(item, SimStatus.RESERVED, transitions=SIM_TRANSITIONS, at=at, what="iccid", label=item.iccid)
    item.status = SimStatus.RESERVED
    item.reserved_until = at + ttl
    item.reserved_for = reference
    return _save_sim(item, old, actor=actor, at=at, action="reserve")


@transaction.atomic
def allocate_sim(brand: Brand, sim=None, *, actor: Actor, at: dt.datetime, sim_type: str | None = None,
                 reference: str = "") -> SimCard:
    """Give a SIM card to a subscription: a free one, or one reserved under the same `reference`."""
    common.require(actor, brand, "inventory.change")
    item = _pick_sim(brand, sim, sim_type, at)
    old = snapshot(item, SIM_STATE)
    _check_reference(item, at, reference, "iccid", item.iccid)
    if item.status == SimStatus.BLOCKED:
        raise ServiceError(f"iccid: {item.iccid} is blocked; unblock it first", field="iccid", code="state")
    _move(item, SimStatus.ALLOCATED, transitions=SIM_TRANSITIONS, at=at, what="iccid", label=item.iccid)
    item.status = SimStatus.ALLOCATED
    item.allocated_at = at
    item.reserved_until = None
    item.reserved_for = reference
    return _save_sim(item, old, actor=actor, at=at, action="allocate")


@transaction.atomic
def release_sim(brand: Brand, sim, *, actor: Actor, at: dt.datetime) -> SimCard:
    """An allocated card that was never used (a cancelled order) goes back to stock.

    A card that served a subscription is retired instead (`retire_sim`).
    """
    common.require(actor, brand, "inventory.change")
    item = _lock_sim(brand, sim)
    if item.status != SimStatus.ALLOCATED:
        raise ServiceError(f"iccid: {item.iccid} is {item.status}, not allocated", field="iccid", code="state")
    old = snapshot(item, SIM_STATE)
    item.status = SimStatus.AVAILABLE
    item.allocated_at = None
    item.reserved_for = ""
    return _save_sim(item, old, actor=actor, at=at, action="release")


@transaction.atomic
def cancel_sim_reservation(brand: Brand, sim, *, actor: Actor, at: dt.datetime, reference: str = "") -> SimCard:
    common.require(actor, brand, "inventory.change")
    item = _lock_sim(brand, sim)
    old = snapshot(item, SIM_STATE)
    _cancel_reservation(item, SimStatus, at=at, reference=reference, what="iccid", label=item.iccid)
    return _save_sim(item, old, actor=actor, at=at, action="cancel_reservation")


@transaction.atomic
def block_sim(brand: Brand, sim, *, actor: Actor, at: dt.datetime, reason: str = "") -> SimCard:
    """Lost, stolen or faulty: the card cannot be handed out or used until unblocked."""
    common.require(actor, brand, "inventory.change")
    item = _lock_sim(brand, sim)
    old = snapshot(item, SIM_STATE)
    current = _move(item, SimStatus.BLOCKED, transitions=SIM_TRANSITIONS, at=at, what="iccid", label=item.iccid)
    item.previous_status = SimStatus.ALLOCATED if current == SimStatus.ALLOCATED else SimStatus.AVAILABLE
    item.status = SimStatus.BLOCKED
    item.reserved_until = None
    if current != SimStatus.ALLOCATED:
        item.reserved_for = ""
    return _save_sim(item, old, actor=actor, at=at, action="block", message=reason)


@transaction.atomic
def unblock_sim(brand: Brand, sim, *, actor: Actor, at: dt.datetime, reason: str = "") -> SimCard:
    """Back to where the card was before blocking (allocated, or available stock)."""
    common.require(actor, brand, "inventory.change")
    item = _lock_sim(brand, sim)
    if item.status != SimStatus.BLOCKED:
        raise ServiceError(f"iccid: {item.iccid} is {item.status}, not blocked", field="iccid", code="state")
    old = snapshot(item, SIM_STATE)
    item.status = item.previous_status or SimStatus.AVAILABLE
    item.previous_status = ""
    return _save_sim(item, old, actor=actor, at=at, action="unblock", message=reason)


@transaction.atomic
def retire_sim(brand: Brand, sim, *, actor: Actor, at: dt.datetime, reason: str = "") -> SimCard:
    """Out of service for good (swapped, terminated, destroyed). Retired is final."""
    common.require(actor, brand, "inventory.change")
    item = _lock_sim(brand, sim)
    old = snapshot(item, SIM_STATE)
    _move(item, SimStatus.RETIRED, transitions=SIM_TRANSITIONS, at=at, what="iccid", label=item.iccid)
    item.status = SimStatus.RETIRED
    item.previous_status = ""
    item.reserved_until = None
    return _save_sim(item, old, actor=actor, at=at, action="retire", message=reason)


# ---- expiry (the periodic task) --------------------------------------------------------------

_EXPIRIES = [
    # (table, object type, key column, status that runs out, its end column, columns cleared, audit action)
    ("inventory_simcard", "inventory.simcard", "iccid", "reserved", "reserved_until",
     "reserved_until = NULL, reserved_for = ''", "expire_reservation"),
    ("inventory_phonenumber", "inventory.phonenumber", "number", "reserved", "reserved_until",
     "reserved_until = NULL, reserved_for = ''", "expire_reservation"),
    ("inventory_phonenumber", "inventory.phonenumber", "number", "quarantined", "quarantine_until",
     "quarantine_until = NULL", "end_quarantine"),
]


def release_expired(*, actor: Actor, at: dt.datetime, brand: Brand | None = None) -> dict[str, int]:
    """Turn run-out reservations and quarantines back into `available`, audited row by row.

    Works in batches of 1000 rows, each its own transaction; rows locked by an allocator right
    now are skipped (the allocator decides their fate) and picked up by the next run.
    """
    counts: dict[str, int] = {}
    for table, object_type, key, status, column, clear, action in _EXPIRIES:
        done = 0
        while True:
            with transaction.atomic(), connection.cursor() as cur:
                brand_filter = "AND brand_id = %s" if brand is not None else ""
                params = [status, at] + ([brand.pk] if brand is not None else [])
                cur.execute(
                    f"""WITH picked AS (SELECT id, {column} AS ended FROM {table}
                                        WHERE status = %s AND {column} <= %s {brand_filter}
                                        ORDER BY id LIMIT {BATCH} FOR UPDATE SKIP LOCKED)
                        UPDATE {table} AS t SET status = 'available', {clear}, updated_at = %s FROM picked
                        WHERE t.id = picked.id RETURNING t.id, t.brand_id, t.{key}, picked.ended""",
                    [*params, at],
                )
                rows = cur.fetchall()
                prefix = "+" if key == "number" else ""
                common.audit_rows(
                    actor=actor, at=at, action=action,
                    rows=[(brand_id, object_type, pk, prefix + value,
                           {"status": [status, "available"], column: [ends.isoformat(), None]})
                          for pk, brand_id, value, ends in rows],
                )
            done += len(rows)
            if len(rows) < BATCH:
                break
        name = f"{'sims' if key == 'iccid' else 'numbers'}_{action}"
        counts[name] = done
    return counts
