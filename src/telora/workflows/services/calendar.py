"""The brand's business calendar (weekend, working hours, public holidays): the operator's edits."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from telora.core.services import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.workflows.models import BusinessCalendar

MAX_HOLIDAYS = 400


def parse_holidays(text: str) -> list[list[str]]:
    """Lines "YYYY-MM-DD name" (or "YYYY-MM-DD,name") as [[date, name], ...] in date order; ServiceError
    naming the first bad line."""
    holidays: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        day, _sep, name = line.replace(",", " ", 1).partition(" ")
        try:
            holidays[dt.date.fromisoformat(day).isoformat()] = name.strip()[:100]
        except ValueError:
            raise ServiceError(f"line {number}: {day[:20]!r} is not a date (YYYY-MM-DD name)",
                               field="holidays") from None
    if len(holidays) > MAX_HOLIDAYS:
        raise ServiceError(f"at most {MAX_HOLIDAYS} holidays", field="holidays")
    return [[day, holidays[day]] for day in sorted(holidays)]


@transaction.atomic
def save_calendar(brand, *, weekend: list[int], opens: dt.time, closes: dt.time, holidays: list[list[str]],
                  actor: Actor, at: dt.datetime) -> BusinessCalendar:
    """Set the brand's business calendar (audited with the old and new values)."""
    weekend = sorted({int(day) for day in weekend})
    if any(day < 1 or day > 7 for day in weekend) or len(weekend) >= 7:
        raise ServiceError("the weekend is some of the days 1 (Monday) to 7 (Sunday), not all", field="weekend")
    if closes <= opens:
        raise ServiceError("working hours close after they open", field="closes")
    calendar = BusinessCalendar.objects.select_for_update().filter(brand=brand).first()
    old = _snapshot(calendar) if calendar else {}
    if calendar is None:
        calendar = BusinessCalendar(brand=brand)
    calendar.weekend, calendar.opens, calendar.closes = weekend, opens, closes
    calendar.holidays, calendar.updated_at = holidays, at
    calendar.save()
    record_event(actor=actor, at=at, action="update" if old else "create", obj=calendar, brand=brand, old=old,
                 new=_snapshot(calendar))
    return calendar


def _snapshot(calendar: BusinessCalendar) -> dict:
    return {"weekend": list(calendar.weekend), "opens": calendar.opens.isoformat(),
            "closes": calendar.closes.isoformat(), "holidays": [list(h) for h in calendar.holidays]}
