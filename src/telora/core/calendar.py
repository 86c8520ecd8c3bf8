"""Business days and business hours of a brand: a pure engine (standard library only).

A `BusinessCalendar` is plain data: the brand's timezone, its weekend days (per its country unless the
operator set them), its public holidays (edited by the operator; the demo brands' come from
core/data/holidays/<COUNTRY>.csv) and its working hours. Desk due times (`telora:due`) and timers marked
`telora:calendar="business"` count in it: "P2D" is two business days, "PT4H" four working hours.

Counting rules, in the brand's local time:
- A business day is a day that is not a weekend day and not a holiday.
- `add_business_days`: a start outside a business day (a weekend, a holiday) counts from the next business
  day's opening; the result is the same local time of day `n` business days later.
- `add_business_hours`: only working hours on business days count; a start outside them counts from the
  next opening; a result at the close of a day stays at the close (it does not move to the next morning).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

# ISO weekday numbers (Monday 1 ... Sunday 7). Most countries rest on Saturday and Sunday; these do not.
WEEKENDS = {
    "AF": (4, 5), "DZ": (5, 6), "BH": (5, 6), "EG": (5, 6), "IL": (5, 6), "IQ": (5, 6), "IR": (5,), "JO": (5, 6),
    "KW": (5, 6), "LY": (5, 6), "OM": (5, 6), "QA": (5, 6), "SA": (5, 6), "SD": (5, 6), "SY": (5, 6),
    "YE": (5, 6), "NP": (6,),
}
DEFAULT_WEEKEND = (6, 7)
MAX_DAYS = 3660  # ten years of business days: a bound against a calendar with no business day at all
_DURATION = re.compile(r"^P(?:(?P<weeks>\d+)W|(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?)?)$")


def weekend_of(country: str) -> tuple[int, ...]:
    """The weekend days of a country (ISO weekday numbers)."""
    return WEEKENDS.get((country or "").upper(), DEFAULT_WEEKEND)


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "UTC"
    weekend: tuple[int, ...] = DEFAULT_WEEKEND
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    opens: dt.time = dt.time(8, 0)
    closes: dt.time = dt.time(17, 0)

    def __post_init__(self):
        if self.closes <= self.opens:
            raise ValueError("working hours must close after they open")
        if len(set(self.weekend)) >= 7:
            raise ValueError("a calendar needs at least one working weekday")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_business_day(self, day: dt.date) -> bool:
        return day.isoweekday() not in self.weekend and day not in self.holidays

    def next_business_day(self, day: dt.date) -> dt.date:
        """The first business day after `day`."""
        for _ in range(MAX_DAYS):
            day += dt.timedelta(days=1)
            if self.is_business_day(day):
                return day
        raise ValueError("the calendar has no business day in ten years")

    def _at(self, day: dt.date, moment: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, moment, tzinfo=self.tz)


def _local(start: dt.datetime, calendar: BusinessCalendar) -> dt.datetime:
    if start.tzinfo is None:
        raise ValueError("business time needs a timezone-aware start")
    return start.astimezone(calendar.tz)


def add_business_days(start: dt.datetime, n: int, calendar: BusinessCalendar) -> dt.datetime:
    """`start` plus `n` business days of `calendar`, at the same local time of day (in UTC)."""
    if n < 0:
        raise ValueError("business days are counted forward")
    local = _local(start, calendar)
    day, moment = local.date(), local.timetz().replace(tzinfo=None)
    if not calendar.is_business_day(day):
        day, moment = calendar.next_business_day(day), calendar.opens
    for _ in range(n):
        day = calendar.next_business_day(day)
    return calendar._at(day, moment).astimezone(dt.UTC)


def add_business_hours(start: dt.datetime, duration: dt.timedelta, calendar: BusinessCalendar) -> dt.datetime:
    """`start` plus `duration` of working time (working hours on business days) of `calendar` (in UTC)."""
    if duration < dt.timedelta(0):
        raise ValueError("business time is counted forward")
    local = _local(start, calendar)
    day = local.date()
    moment = local.replace(tzinfo=None).time()
    if not calendar.is_business_day(day) or moment >= calendar.closes:
        day, moment = calendar.next_business_day(day), calendar.opens
    elif moment < calendar.opens:
        moment = calendar.opens
    left = duration
    for _ in range(MAX_DAYS):
        opened = dt.datetime.combine(day, moment)
        available = dt.datetime.combine(day, calendar.closes) - opened
        if left <= available:
            return calendar._at(day, (opened + left).time()).astimezone(dt.UTC)
        left -= available
        day, moment = calendar.next_business_day(day), calendar.opens
    raise ValueError("the duration is longer than ten years of working hours")


def parse_business_duration(text: str) -> tuple[int, dt.timedelta]:
    """An ISO 8601 duration for business time: ("P2D", "PT4H", "P1DT4H", "P1W" = 5 business days) as
    (business days, working time). Years and months are refused (calendar durations, not business ones)."""
    match = _DURATION.match((text or "").strip().upper())
    if not match or (text or "").strip().upper() in ("P", "PT") or (text or "").strip().upper().endswith("T"):
        raise ValueError(f"{text!r} is not a business duration (days, hours and minutes: P2D, PT4H, P1DT4H)")
    parts = {name: int(value) for name, value in match.groupdict().items() if value}
    days = parts.get("days", 0) + 5 * parts.get("weeks", 0)
    return days, dt.timedelta(hours=parts.get("hours", 0), minutes=parts.get("minutes", 0))


def add_business_duration(start: dt.datetime, text: str, calendar: BusinessCalendar) -> dt.datetime:
    """`start` plus an ISO duration counted in business time: the days as business days, then the hours and
    minutes as working hours."""
    days, working = parse_business_duration(text)
    end = add_business_days(start, days, calendar)
    return add_business_hours(end, working, calendar) if working else end
