"""The bounds a usage record must keep (engine.bounds) as this installation sets them: a window
around now for start times, the largest usage and charge, and the failed rows one file may make.

Settings (environment variables of the same name, read in telora.settings):

| setting | default | what |
|---|---|---|
| TELORA_USAGE_PAST_DAYS | 730 | oldest start time taken, in days before now |
| TELORA_USAGE_FUTURE_DAYS | 2 | latest start time taken, in days after now (switch clocks drift) |
| TELORA_USAGE_MAX_DURATION | 604800 | seconds (7 days) |
| TELORA_USAGE_MAX_VOLUME | 10995116277760 | bytes (10 TiB) |
| TELORA_USAGE_MAX_QUANTITY | 1000000 | messages or items |
| TELORA_USAGE_MAX_CHARGE | 10000 | a source's pre-priced charge, in the brand's currency; a source's own `max_charge` wins |
| TELORA_USAGE_MAX_FAILED | 10000 | failed lines one file may make before it is refused whole |
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings

from telora.rating.engine.bounds import Bounds


def _setting(name: str, default):
    return getattr(settings, name, default)


def window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[earliest, latest) for a record's start time, seen from `now`."""
    return (now - dt.timedelta(days=int(_setting("TELORA_USAGE_PAST_DAYS", 730))),
            now + dt.timedelta(days=int(_setting("TELORA_USAGE_FUTURE_DAYS", 2))))


def max_failed() -> int:
    return int(_setting("TELORA_USAGE_MAX_FAILED", 10_000))


def default_max_charge() -> Decimal:
    return Decimal(str(_setting("TELORA_USAGE_MAX_CHARGE", "10000")))


def usage_bounds(brand_id: int, source: str, now: dt.datetime) -> Bounds:
    """The bounds for records of `source` in the brand, seen from `now` (one small query)."""
    from telora.rating.models import UsageSource

    own = UsageSource.objects.filter(brand_id=brand_id, code=source).values_list("max_charge", flat=True).first()
    earliest, latest = window(now)
    return Bounds(earliest=earliest, latest=latest,
                  max_duration=int(_setting("TELORA_USAGE_MAX_DURATION", 7 * 86400)),
                  max_volume=int(_setting("TELORA_USAGE_MAX_VOLUME", 10 * 2**40)),
                  max_quantity=int(_setting("TELORA_USAGE_MAX_QUANTITY", 1_000_000)),
                  max_charge=own if own is not None else default_max_charge(), source=source)
