"""What every letters service shares: the rights check, the brand lock, recipients' validation."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection

from telora.core import rights
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.inventory.validation import InvalidValue, clean_number


def require(actor: Actor, brand, perm: str) -> None:
    """People and API keys need `perm` in the brand; platform jobs (no principal) may always."""
    if actor.principal is None and actor.job:
        return
    if actor.principal is None or not rights.has_perm(actor.principal, brand, perm):
        raise PermissionDeniedError(f"You lack {perm} in {brand.code}.")


def lock(brand, what: str) -> None:
    """One writer of `what` per brand at a time (version numbers are max + 1)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"telora.letters.{what}:{brand.pk}"])


def clean_recipient(channel: str, value: str, brand, field: str = "recipient") -> str:
    """An e-mail address (as written, trimmed), a phone number as E.164 digits, or address lines;
    anything else is a ServiceError naming `field` and why."""
    value = (value or "").strip()
    if not value:
        raise ServiceError(f"{field}: no {'e-mail address' if channel == 'email' else 'number' if channel == 'sms' else 'address'} to send to", field=field)
    if channel == "email":
        try:
            validate_email(value)
        except ValidationError:
            raise ServiceError(f"{field}: {value[:80]!r} is not a valid e-mail address", field=field) from None
        return value
    if channel == "sms":
        try:
            return clean_number(value, brand.country)
        except InvalidValue as exc:
            raise ServiceError(f"{field}: {value[:40]!r}: {exc}", field=field) from None
    if len(value) > 254:
        raise ServiceError(f"{field}: at most 254 characters", field=field)
    return value
