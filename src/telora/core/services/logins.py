"""Login throttling: too many recent failures for a user name or an address block further tries."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from telora.core.models import LoginAttempt


def is_throttled(username: str, address: str | None, *, at: dt.datetime) -> bool:
    since = at - dt.timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    failures = LoginAttempt.objects.filter(succeeded=False, at__gte=since)
    if failures.filter(username__iexact=username).count() >= settings.LOGIN_THROTTLE_MAX_PER_USERNAME:
        return True
    if address and failures.filter(address=address).count() >= settings.LOGIN_THROTTLE_MAX_PER_ADDRESS:
        return True
    return False


def record_attempt(username: str, address: str | None, *, succeeded: bool, at: dt.datetime) -> None:
    LoginAttempt.objects.create(username=username[:150], address=address, succeeded=succeeded, at=at)
    if succeeded:
        # A successful login clears the user's failure count.
        LoginAttempt.objects.filter(username__iexact=username, succeeded=False).delete()


def purge_attempts(*, at: dt.datetime, keep_days: int = 30) -> int:
    deleted, _ = LoginAttempt.objects.filter(at__lt=at - dt.timedelta(days=keep_days)).delete()
    return deleted
