"""Numbers that move between operators (number portability), for the porting app.

A ported-in number enters the inventory free for the line that takes it, marked `origin=ported_in`
(a number the brand did not hold before, or one it ported out earlier, coming back). A number ported
out leaves the inventory: from quarantine (its line was just terminated) to `ported_out`, which next
free never hands out. Audited like every inventory change.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event, snapshot
from telora.inventory.models import NumberStatus, PhoneNumber
from telora.inventory.services import common

PORT_STATE = ["status", "origin", "ported_at", "reserved_until", "reserved_for", "allocated_at", "quarantine_until"]


@transaction.atomic
def port_in_number(brand: Brand, number, *, actor: Actor, at: dt.datetime, donor: str = "") -> PhoneNumber:
    """The number arrives from the donor `donor`: created (or taken back from `ported_out`) as available
    and ported in, for the line that allocates it next in the same transaction."""
    common.require(actor, brand, "inventory.change")
    digits = common.number_digits(brand, number)
    item = PhoneNumber.objects.select_for_update().filter(brand=brand, number=digits).first()
    if item is None:
        item = PhoneNumber(brand=brand, number=digits, status=NumberStatus.AVAILABLE, origin="ported_in",
                           ported_at=at, created_at=at, updated_at=at)
        item.save()
        record_event(actor=actor, at=at, action="port_in", obj=item, brand=brand, new=snapshot(item, PORT_STATE),
                     message=f"ported in from {donor}"[:500])
        return item
    if item.status != NumberStatus.PORTED_OUT:
        raise ServiceError(f"number: +{digits} is {item.status} in the inventory; only a number ported out earlier "
                           "can be ported back in", field="number", code="state")
    old = snapshot(item, PORT_STATE)
    item.status, item.origin, item.ported_at, item.updated_at = NumberStatus.AVAILABLE, "ported_in", at, at
    item.quarantine_until = item.reserved_until = item.allocated_at = None
    item.reserved_for = ""
    item.save()
    record_event(actor=actor, at=at, action="port_in", obj=item, brand=brand, old=old, new=snapshot(item, PORT_STATE),
                 message=f"ported back in from {donor}"[:500])
    return item


@transaction.atomic
def port_out_number(brand: Brand, number, *, actor: Actor, at: dt.datetime, recipient: str = "") -> PhoneNumber:
    """The number left for `recipient`: its line was terminated (the number is in quarantine); it is
    ported out and never handed out again unless it is ported back in."""
    common.require(actor, brand, "inventory.change")
    digits = common.number_digits(brand, number)
    item = PhoneNumber.objects.select_for_update().filter(brand=brand, number=digits).first()
    if item is None:
        raise ServiceError(f"number: +{digits} is not in the inventory of {brand.code}", field="number",
                           code="not_found")
    if item.status != NumberStatus.QUARANTINED:
        raise ServiceError(f"number: +{digits} is {item.status}; terminate its line before it is ported out",
                           field="number", code="state")
    old = snapshot(item, PORT_STATE)
    item.status, item.ported_at, item.updated_at = NumberStatus.PORTED_OUT, at, at
    item.quarantine_until = item.reserved_until = item.allocated_at = None
    item.reserved_for = ""
    item.save()
    record_event(actor=actor, at=at, action="port_out", obj=item, brand=brand, old=old,
                 new=snapshot(item, PORT_STATE), message=f"ported out to {recipient}"[:500])
    return item
