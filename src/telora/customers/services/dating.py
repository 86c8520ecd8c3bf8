"""Changes with an effective date: selling a line, add-ons, plan changes and terminations as of a
moment other than now, so a base can be loaded with its history and a termination entered as of
last Tuesday.

The change itself is the ordinary service called with `at` = the effective moment (the services
already keep changes in order: nothing before a subscription's last change). What this adds:
a moment in the past needs its own right (`customers.backdate`, platform jobs have it), lies
within `TELORA_BACKDATE_MAX_DAYS`, and leaves a `backdate` audit event at the real time, naming
the effective moment, beside the change's own events (which carry the effective moment). Future
moments are refused: a change planned ahead is an order, taken by the order workflows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import transaction

from telora.core.services.actors import Actor
from telora.core.services.audit import record_event
from telora.customers.services.common import fail, require

T = TypeVar("T")
CLOCK_SKEW = dt.timedelta(minutes=5)  # a caller's "now" a little off ours is still now


def max_backdate() -> dt.timedelta:
    return dt.timedelta(days=getattr(settings, "TELORA_BACKDATE_MAX_DAYS", 400))


def dated_change(target, effective_at: dt.datetime | None, change: Callable[[dt.datetime], T], *,
                 actor: Actor, now: dt.datetime, field: str = "effective_at") -> T:
    """Run `change(at)` at the effective moment; `target` (customer or subscription) gives the brand.

    Without `effective_at`, or with one within a few minutes of now, the change happens now.
    """
    if effective_at is None or abs(effective_at - now) <= CLOCK_SKEW:
        return change(now)
    if effective_at.tzinfo is None:
        raise fail(field, "give a time zone offset (2026-03-01T00:00:00+01:00)")
    if effective_at > now:
        raise fail(field, "a change in the future is not taken here: enter it when it is due, or as an order")
    if now - effective_at > max_backdate():
        raise fail(field, f"at most {max_backdate().days} days back")
    with transaction.atomic():
        require(actor, target.brand, "customers.backdate")
        result = change(effective_at)
        obj = result if hasattr(result, "_meta") else target
        record_event(actor=actor, at=now, action="backdate", obj=obj, brand=target.brand,
                     new={"effective_at": effective_at, "entered_at": now},
                     message=f"back-dated change, effective {effective_at.isoformat()}")
    return result
