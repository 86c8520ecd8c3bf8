"""The packed form of staged records gives back exactly the records it was given."""

import datetime as dt
from decimal import Decimal

import pytest

from telora.rating.engine import UsageRecord
from telora.rating.services.staging import micros, pack, unpack


def test_records_survive_packing_exactly():
    cet = dt.timezone(dt.timedelta(hours=2))
    records = [
        UsageRecord("r1", "voice", "4520000001", "4533123456", dt.datetime(2026, 10, 5, 9, 15, 0, 250, tzinfo=cet),
                    duration=125, line=2),
        UsageRecord("id\twith\\odd\nparts", "content", "4520000001", "1999", dt.datetime(1969, 12, 31, 23, 59, 59,
                    tzinfo=dt.UTC), charge=Decimal("19.000001"), quantity=3, line=9),
        UsageRecord("r3", "data", "4520000002", "", dt.datetime(2026, 10, 5, 0, 0, tzinfo=dt.UTC), volume=52428800,
                    location="SE", direction="in", line=10),
    ]
    back = unpack(pack(records))
    assert back == records  # equal moments compare equal whatever the offset
    assert [r.start_time.utcoffset() for r in back] == [dt.timedelta(0)] * 3
    assert back[1].charge == Decimal("19.000001") and back[0].charge is None
    assert micros(records[0].start_time) == 1791184500000250


def test_empty_payload_has_no_records():
    assert unpack(b"") == [] and unpack(pack([])) == []


def test_a_payload_of_another_version_is_refused():
    with pytest.raises(ValueError, match="unknown version"):
        unpack(b"\x02" + pack([])[1:])
