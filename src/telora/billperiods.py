"""Bill periods from a cycle's anchor day: pure arithmetic shared by the catalogue, the rating engine and billing.

It sits outside every app so the pure rating engine can use it without importing a Django app.

A monthly cycle anchored on day 31 starts on the 30th in April and on the 28th or 29th in
February: a month too short for the anchor uses its last day.
"""

from __future__ import annotations

import calendar
import datetime as dt


def anchor_date(year: int, month: int, anchor_day: int) -> dt.date:
    return dt.date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def bill_period(anchor_day: int, on: dt.date) -> tuple[dt.date, dt.date]:
    """The bill period containing `on`, half-open: (first day, first day of the next period)."""
    start = anchor_date(on.year, on.month, anchor_day)
    year, month = (on.year, on.month) if on >= start else _shift(on.year, on.month, -1)
    start = anchor_date(year, month, anchor_day)
    return start, anchor_date(*_shift(year, month, 1), anchor_day)
