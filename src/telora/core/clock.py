"""The one source of time. Tests move it with time-machine; nothing else calls datetime.now()."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone


def now() -> datetime:
    """The current moment, timezone-aware (UTC)."""
    return timezone.now()


def today(brand=None) -> date:
    """Today's business date: in the brand's timezone when a brand is given, else in UTC."""
    moment = now()
    if brand is not None:
        return moment.astimezone(ZoneInfo(brand.timezone)).date()
    return moment.date()


def localtime(moment: datetime, brand) -> datetime:
    """A moment seen in the brand's timezone (for business days and time bands)."""
    return moment.astimezone(ZoneInfo(brand.timezone))
