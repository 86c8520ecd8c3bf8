import datetime as dt

import time_machine

from telora.core import clock


def test_now_is_aware_and_follows_the_frozen_clock():
    with time_machine.travel(dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.UTC), tick=False):
        assert clock.now() == dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.UTC)
        assert clock.now().tzinfo is not None


def test_today_is_the_brand_business_day(brand_a, brand_b):
    # 23:30 UTC on 31 March is already 1 April in Amsterdam (CEST, +2) and 00:30 in London (BST, +1).
    with time_machine.travel(dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.UTC), tick=False):
        assert clock.today() == dt.date(2026, 3, 31)
        assert clock.today(brand_a) == dt.date(2026, 4, 1)
        assert clock.today(brand_b) == dt.date(2026, 4, 1)
    with time_machine.travel(dt.datetime(2026, 1, 15, 23, 30, tzinfo=dt.UTC), tick=False):
        assert clock.today(brand_b) == dt.date(2026, 1, 15)  # London is UTC in winter
        assert clock.today(brand_a) == dt.date(2026, 1, 16)
