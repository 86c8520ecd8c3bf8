"""Setting up the inventory: the brand's policy, number groups, and single SIM cards and numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event, snapshot
from telora.inventory import sealing
from telora.inventory.models import InventorySettings, NumberGroup, NumberStatus, PhoneNumber, SimCard
from telora.inventory.services import common
from telora.inventory.validation import InvalidValue, clean_iccid, clean_imsi, clean_pin, clean_puk

SETTINGS_FIELDS = ["quarantine_days", "reservation_minutes"]
GROUP_FIELDS = ["code", "name", "one_time_price", "currency", "quarantine_days", "is_active"]
SIM_FIELDS = ["iccid", "imsi", "sim_type", "partner", "batch", "status"]
NUMBER_FIELDS = ["number", "group", "status"]
SIM_TEXT_LIMITS = {"sim_type": 40, "partner": 100, "batch": 100}


@transaction.atomic
def configure_inventory(brand: Brand, *, actor: Actor, at: dt.datetime, quarantine_days: int | None = None,
                        reservation_minutes: int | None = None) -> InventorySettings:
    """Set the brand's quarantine days (after a number is released) and default reservation time."""
    common.require(actor, brand, "inventory.change")
    row, _ = InventorySettings.objects.select_for_update().get_or_create(brand=brand)
    old = snapshot(row, SETTINGS_FIELDS)
    for name, value in (("quarantine_days", quarantine_days), ("reservation_minutes", reservation_minutes)):
        if value is None:
            continue
        if not isinstance(value, int) or value < (0 if name == "quarantine_days" else 1):
            raise ServiceError(f"{name}: give a whole number of at least {0 if name == 'quarantine_days' else 1}",
                               field=name)
        setattr(row, name, value)
    row.save()
    record_event(actor=actor, at=at, action="update", obj=row, brand=brand, old=old, new=snapshot(row, SETTINGS_FIELDS))
    return row


def _clean_group(group: NumberGroup) -> None:
    if not group.code or not group.name:
        raise ServiceError("code: a number group needs a code and a name", field="code")
    try:
        group.one_time_price = Decimal(str(group.one_time_price))
    except InvalidOperation:
        raise ServiceError("one_time_price: not a number", field="one_time_price") from None
    if group.one_time_price < 0:
        raise ServiceError("one_time_price: cannot be negative", field="one_time_price")
    if group.quarantine_days is not None and group.quarantine_days < 0:
        raise ServiceError("quarantine_days: cannot be negative", field="quarantine_days")
    try:
        group.full_clean(exclude=["brand", "created_at"], validate_unique=False, validate_constraints=False)
    except Exception as exc:  # django's ValidationError, shown as one field: message line
        field, messages = next(iter(exc.message_dict.items()))
        raise ServiceError(f"{field}: {messages[0]}", field=field) from exc


@transaction.atomic
def create_number_group(brand: Brand, *, actor: Actor, at: dt.datetime, code: str, name: str,
                        one_time_price: Decimal | str = Decimal("0"), quarantine_days: int | None = None,
                        is_active: bool = True) -> NumberGroup:
    """A group of numbers with its one-time price in the brand's currency (e.g. regular, gold)."""
    common.require(actor, brand, "inventory.change")
    group = NumberGroup(brand=brand, code=code, name=name, one_time_price=one_time_price, currency=brand.currency,
                        quarantine_days=quarantine_days, is_active=is_active, created_at=at)
    _clean_group(group)
    if NumberGroup.objects.filter(brand=brand, code=code).exists():
        raise ServiceError(f"code: the number group {code!r} exists already", field="code")
    group.save()
    record_event(actor=actor, at=at, action="create", obj=group, brand=brand, new=snapshot(group, GROUP_FIELDS))
    return group


@transaction.atomic
def update_number_group(group: NumberGroup, *, actor: Actor, at: dt.datetime, **values) -> NumberGroup:
    common.require(actor, group.brand, "inventory.change")
    group = NumberGroup.objects.select_for_update().get(pk=group.pk)
    old = snapshot(group, GROUP_FIELDS)
    for name, value in values.items():
        if name not in GROUP_FIELDS or name == "currency":
            raise ServiceError(f"{name}: not a number group field you can change", field=name)
        setattr(group, name, value)
    _clean_group(group)
    if NumberGroup.objects.filter(brand_id=group.brand_id, code=group.code).exclude(pk=group.pk).exists():
        raise ServiceError(f"code: the number group {group.code!r} exists already", field="code")
    group.save()
    record_event(actor=actor, at=at, action="update", obj=group, brand=group.brand, old=old,
                 new=snapshot(group, GROUP_FIELDS))
    return group


@transaction.atomic
def delete_number_group(group: NumberGroup, *, actor: Actor, at: dt.datetime) -> None:
    """Remove a number group that holds no numbers (one that does can be made inactive instead)."""
    common.require(actor, group.brand, "inventory.change")
    group = NumberGroup.objects.select_for_update().select_related("brand").get(pk=group.pk)
    held = PhoneNumber.objects.filter(group=group).count()
    if held:
        raise ServiceError(f"group: {group.code} still holds {held} number{'s' if held != 1 else ''}; "
                           "make it inactive instead", field="group", code="in_use")
    record_event(actor=actor, at=at, action="delete", obj=group, brand=group.brand, old=snapshot(group, GROUP_FIELDS))
    group.delete()


def clean_sim_values(values: dict) -> tuple[dict, list[tuple[str, str]]]:
    """Check one SIM card's fields; returns (cleaned values, [(field, reason), ...])."""
    cleaned, problems = {}, []
    for name, check in (("iccid", clean_iccid), ("imsi", clean_imsi), ("pin1", clean_pin), ("puk1", clean_puk),
                        ("pin2", clean_pin), ("puk2", clean_puk)):
        try:
            cleaned[name] = check(values.get(name) or "")
        except InvalidValue as exc:
            problems.append((name, str(exc)))
    for name, limit in SIM_TEXT_LIMITS.items():
        text = (values.get(name) or "").strip()
        if len(text) > limit:
            problems.append((name, f"is longer than {limit} characters"))
        cleaned[name] = text
    return cleaned, problems


@transaction.atomic
def create_sim(brand: Brand, *, actor: Actor, at: dt.datetime, iccid: str, imsi: str, pin1: str = "",
               puk1: str = "", pin2: str = "", puk2: str = "", sim_type: str = "", partner: str = "",
               batch: str = "") -> SimCard:
    """One SIM card entered by hand (files go through import_sims)."""
    common.require(actor, brand, "inventory.change")
    values, problems = clean_sim_values(dict(iccid=iccid, imsi=imsi, pin1=pin1, puk1=puk1, pin2=pin2, puk2=puk2,
                                             sim_type=sim_type, partner=partner, batch=batch))
    problems += common.sim_type_problems(values.get("sim_type", ""), common.known_sim_types(brand))
    if problems:
        field, reason = problems[0]
        raise ServiceError(f"{field}: {reason}", field=field)
    for name in ("iccid", "imsi"):
        if SimCard.objects.filter(brand=brand, **{name: values[name]}).exists():
            raise ServiceError(f"{name}: {values[name]} is in the inventory already", field=name, code="duplicate")
    sim = SimCard(brand=brand, iccid=values["iccid"], imsi=values["imsi"], sim_type=values["sim_type"],
                  partner=values["partner"], batch=values["batch"], created_at=at, updated_at=at,
                  sealed_secrets=sealing.seal(values, brand_id=brand.pk, iccid=values["iccid"]))
    try:
        with transaction.atomic():
            sim.save()
    except IntegrityError:
        raise ServiceError(f"iccid: {sim.iccid} is in the inventory already", field="iccid", code="duplicate") from None
    new = snapshot(sim, SIM_FIELDS)
    new["secrets"] = "set" if sim.sealed_secrets else "none"  # never the codes themselves
    record_event(actor=actor, at=at, action="create", obj=sim, brand=brand, new=new)
    return sim


@transaction.atomic
def create_number(brand: Brand, number: str, *, actor: Actor, at: dt.datetime, group=None) -> PhoneNumber:
    """One number entered by hand, normalised to E.164 in the brand's country."""
    common.require(actor, brand, "inventory.change")
    digits = common.number_digits(brand, number)
    group = common.group_of(brand, group)
    if PhoneNumber.objects.filter(brand=brand, number=digits).exists():
        raise ServiceError(f"number: +{digits} is in the inventory already", field="number", code="duplicate")
    item = PhoneNumber(brand=brand, number=digits, group=group, status=NumberStatus.AVAILABLE,
                       created_at=at, updated_at=at)
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        raise ServiceError(f"number: +{digits} is in the inventory already", field="number",
                           code="duplicate") from None
    record_event(actor=actor, at=at, action="create", obj=item, brand=brand, new=snapshot(item, NUMBER_FIELDS))
    return item
