"""Login throttling: guessing gets slower and slower, but nobody can lock another person out.

Failures count per (user name, client address): the first LOGIN_THROTTLE_FREE_FAILURES cost
nothing, then each further try must wait 2, 4, 8 ... seconds (at most
LOGIN_THROTTLE_MAX_DELAY_SECONDS) after the last failure. The real user at another address is not
held back by an attacker's failures. An address with LOGIN_THROTTLE_MAX_PER_ADDRESS failures in
the window (whatever the user names) waits until the oldest leaves the window, so one machine
cannot walk through many accounts. While throttled, the password is not even checked.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Max

from telora.core.models import LoginAttempt

USER = "user"
ADDRESS = "address"


@dataclass(frozen=True)
class Throttle:
    """Why a try is refused (USER: this name from this address; ADDRESS: this address) and for how long."""

    reason: str
    seconds: int


def _failures(*, at: dt.datetime):
    since = at - dt.timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    return LoginAttempt.objects.filter(succeeded=False, at__gte=since)


def _from(queryset, address: str | None):
    return queryset.filter(address=address) if address else queryset.filter(address__isnull=True)


def delay_after(failures: int) -> int:
    """Seconds to wait after the last of `failures` failures of one name from one address."""
    over = failures - settings.LOGIN_THROTTLE_FREE_FAILURES
    if over < 0:
        return 0
    return min(2 ** (over + 1), settings.LOGIN_THROTTLE_MAX_DELAY_SECONDS)


def throttle(username: str, address: str | None, *, at: dt.datetime) -> Throttle | None:
    """None when the try may go ahead, else why not and for how many seconds."""
    failures = _failures(at=at)
    mine = _from(failures.filter(username__iexact=username), address).aggregate(n=Count("id"), last=Max("at"))
    wait = delay_after(mine["n"])
    if wait and (left := (mine["last"] + dt.timedelta(seconds=wait) - at).total_seconds()) > 0:
        return Throttle(USER, math.ceil(left))
    if address:
        limit = settings.LOGIN_THROTTLE_MAX_PER_ADDRESS
        recent = list(failures.filter(address=address).order_by("-at").values_list("at", flat=True)[:limit])
        if len(recent) >= limit:
            # Free again once the limit-th newest failure leaves the window.
            window = dt.timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
            left = (recent[-1] + window - at).total_seconds()
            if left > 0:
                return Throttle(ADDRESS, math.ceil(left))
    return None


def is_throttled(username: str, address: str | None, *, at: dt.datetime) -> bool:
    return throttle(username, address, at=at) is not None


def record_attempt(username: str, address: str | None, *, succeeded: bool, at: dt.datetime) -> None:
    LoginAttempt.objects.create(username=username[:150], address=address, succeeded=succeeded, at=at)
    if succeeded:
        # A success clears this name's failures from this address only: an attacker's failures
        # elsewhere still count against the attacker's address.
        _from(LoginAttempt.objects.filter(username__iexact=username, succeeded=False), address).delete()


def purge_attempts(*, at: dt.datetime, keep_days: int = 30) -> int:
    deleted, _ = LoginAttempt.objects.filter(at__lt=at - dt.timedelta(days=keep_days)).delete()
    return deleted
