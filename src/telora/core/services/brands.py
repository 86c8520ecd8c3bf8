"""Creating and changing brands (system administrators only)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from telora.core import rights
from telora.core.models import Brand
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.core.services.audit import record_event, snapshot

BRAND_FIELDS = [
    "code", "name", "currency", "timezone", "country", "language",
    "primary_colour", "secondary_colour", "is_active", "logo", "modules_off",
]


def _require_admin(actor: Actor) -> None:
    if actor.job:
        return
    if not rights.is_system_admin(actor.principal):
        raise PermissionDeniedError("Only system administrators manage brands.")


def _validated(brand: Brand) -> None:
    from telora.core.modules import switchable

    unknown = sorted(set(brand.modules_off) - set(switchable()))
    if unknown:
        raise ServiceError(f"modules_off: unknown module {', '.join(unknown)} (known: {', '.join(switchable())})",
                           field="modules_off")
    brand.modules_off = sorted(set(brand.modules_off))
    try:
        brand.full_clean(exclude=["created_at"])
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ServiceError(f"{field}: {messages[0]}", field=field) from exc


@transaction.atomic
def create_brand(*, actor: Actor, at, **values) -> Brand:
    _require_admin(actor)
    brand = Brand(created_at=at, **values)
    _validated(brand)
    brand.save()
    record_event(actor=actor, at=at, action="create", obj=brand, brand=brand, new=snapshot(brand, BRAND_FIELDS))
    return brand


@transaction.atomic
def update_brand(brand: Brand, *, actor: Actor, at, **values) -> Brand:
    _require_admin(actor)
    brand = Brand.objects.select_for_update().get(pk=brand.pk)
    old = snapshot(brand, BRAND_FIELDS)
    for name, value in values.items():
        if name not in BRAND_FIELDS:
            raise ServiceError(f"{name}: not a brand field", field=name)
        setattr(brand, name, value)
    _validated(brand)
    brand.save()
    record_event(actor=actor, at=at, action="update", obj=brand, brand=brand, old=old, new=snapshot(brand, BRAND_FIELDS))
    if old["modules_off"] != brand.modules_off:
        from telora.core.modules import forget

        transaction.on_commit(forget)
    return brand
