"""Business days and working hours (core/calendar.py): weekends, holidays, year end, the brand's timezone."""

from __future__ import annotations

import datetime as dt

import pytest

from telora.core.calendar import (
    BusinessCalendar,
    add_business_days,
    add_business_duration,
    add_business_hours,
    parse_business_duration,
    weekend_of,
)

CPH = BusinessCalendar(timezone="Europe/Copenhagen", holidays=frozenset({dt.date(2026, 12, 24), dt.date(2026, 12, 25),
                                                                         dt.date(2026, 12, 26), dt.date(2027, 1, 1)}))


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_business_days_skip_the_weekend():
    # Thursday 10:00 UTC (11:00 in Copenhagen) + 2 business days: Monday at the same local time
    assert add_business_days(utc(2026, 3, 5, 10), 2, CPH) == utc(2026, 3, 9, 10)
    assert add_business_days(utc(2026, 3, 5, 10), 1, CPH) == utc(2026, 3, 6, 10)
    assert add_business_days(utc(2026, 3, 5, 10), 0, CPH) == utc(2026, 3, 5, 10)


def test_a_start_on_a_weekend_counts_from_the_next_opening():
    # Saturday: counts from Monday 08:00 local (07:00 UTC in winter), one business day later is Tuesday 08:00
    assert add_business_days(utc(2026, 3, 7, 12), 1, CPH) == utc(2026, 3, 10, 7)


def test_holidays_are_not_business_days_across_the_year_end():
    # Wednesday 23 December + 2: the 24th-26th are holidays, 27th Sunday, so Monday 28th, then Tuesday 29th
    assert add_business_days(utc(2026, 12, 23, 9), 2, CPH) == utc(2026, 12, 29, 9)
    # Wednesday 30 December + 2: 1 January is a holiday, 2-3 January a weekend: Monday 4 January 2027
    assert add_business_days(utc(2026, 12, 30, 9), 2, CPH) == utc(2027, 1, 4, 9)


def test_the_brands_timezone_decides_the_day():
    # 23:30 UTC on Friday is already Saturday 00:30 in Copenhagen: counts from Monday's opening
    assert add_business_days(utc(2026, 3, 6, 23, 30), 1, CPH) == utc(2026, 3, 10, 7)
    # ... while in London it is still Friday 23:30: + 1 business day is Monday 23:30
    london = BusinessCalendar(timezone="Europe/London")
    assert add_business_days(utc(2026, 3, 6, 23, 30), 1, london) == utc(2026, 3, 9, 23, 30)


def test_the_same_local_time_across_a_daylight_saving_change():
    # Friday 27 March 2026 09:00 local (08:00 UTC); summer time starts on Sunday 29th: Monday 09:00 is 07:00 UTC
    assert add_business_days(utc(2026, 3, 27, 8), 1, CPH) == utc(2026, 3, 30, 7)


def test_working_hours_count_only_inside_opening_hours():
    # Monday 15:00 local (14:00 UTC) + 4 working hours: 2 on Monday (to 17:00), 2 on Tuesday from 08:00 -> 10:00
    assert add_business_hours(utc(2026, 3, 2, 14), dt.timedelta(hours=4), CPH) == utc(2026, 3, 3, 9)
    # Friday 16:00 local + 4 h: 1 on Friday, 3 on Monday -> 11:00 local
    assert add_business_hours(utc(2026, 3, 6, 15), dt.timedelta(hours=4), CPH) == utc(2026, 3, 9, 10)
    # before opening: from 08:00; ending exactly at the close stays at the close
    assert add_business_hours(utc(2026, 3, 2, 5), dt.timedelta(hours=9), CPH) == utc(2026, 3, 2, 16)
    # a night start counts from the next opening, over a holiday
    assert add_business_hours(utc(2026, 12, 23, 20), dt.timedelta(hours=1), CPH) == utc(2026, 12, 28, 8)


def test_durations_in_business_time():
    assert parse_business_duration("P2D") == (2, dt.timedelta(0))
    assert parse_business_duration("PT4H") == (0, dt.timedelta(hours=4))
    assert parse_business_duration("P1DT4H30M") == (1, dt.timedelta(hours=4, minutes=30))
    assert parse_business_duration("P1W") == (5, dt.timedelta(0))
    for bad in ("P1M", "P1Y", "P", "PT", "2D", "P1DT", "P1.5D", ""):
        with pytest.raises(ValueError):
            parse_business_duration(bad)
    # Friday 16:00 local + P1DT2H: Monday 16:00, then 1 h on Monday and 1 h on Tuesday -> Tuesday 09:00 local
    assert add_business_duration(utc(2026, 3, 6, 15), "P1DT2H", CPH) == utc(2026, 3, 10, 8)


def test_weekends_per_country_and_a_calendar_must_work_some_day():
    assert weekend_of("DK") == (6, 7) and weekend_of("SA") == (5, 6)
    friday_saturday = BusinessCalendar(timezone="Asia/Riyadh", weekend=weekend_of("SA"))
    # Thursday 10:00 Riyadh (07:00 UTC) + 1: Sunday
    assert add_business_days(utc(2026, 3, 5, 7), 1, friday_saturday) == utc(2026, 3, 8, 7)
    with pytest.raises(ValueError):
        BusinessCalendar(weekend=(1, 2, 3, 4, 5, 6, 7))
    with pytest.raises(ValueError):
        add_business_days(dt.datetime(2026, 3, 5, 10), 1, CPH)  # naive
