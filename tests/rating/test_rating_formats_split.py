"""The canonical CSV cut at intake (raw lines routed by A-number) and read by the worker gives
exactly what reading the whole file gives: the same records, the same failures on the same lines."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from telora.rating.engine import ParseFailure
from telora.rating.formats import canonical
from telora.rating.services.intake import partition_of

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"  # the reference files, kept in the repo
HEADER = "record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge"


def whole(text: str) -> list:
    return list(canonical.parse(io.StringIO(text, newline="")))


def cut(text: str, partitions: int = 16, limit: int = 1_000_000) -> tuple[list, list[int]]:
    """Split and route, then read the lines as the workers do; outcomes in line order, and the
    partition each line was routed to."""
    split = canonical.split(io.BytesIO(text.encode()))
    assert split is not None
    routed = []

    def flush(partition, raws, lines):
        assert 0 < len(lines) <= limit and len(raws) == len(lines)
        routed.extend((line, raw, partition) for raw, line in zip(raws, lines, strict=True))

    assert split.route(partitions, limit, flush) == len(routed)
    routed.sort()
    outcomes = list(canonical.parse_split(split.names, [raw for _l, raw, _p in routed], [line for line, _r, _p in routed]))
    return outcomes, [partition for _l, _r, partition in routed]


def same(a: list, b: list) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        if isinstance(x, ParseFailure):
            assert isinstance(y, ParseFailure) and (x.line, x.reason, x.record_id) == (y.line, y.reason, y.record_id)
        else:
            assert x == y


def test_the_example_file_reads_the_same_cut_or_whole():
    text = (EXAMPLES / "cdrs.csv").read_text()
    outcomes, partitions = cut(text)
    same(outcomes, whole(text))
    assert partitions[2] == partitions[0] == partition_of("4520000001")  # '+4520000001' too
    assert [o.line for o in outcomes if isinstance(o, ParseFailure)] == [13]


@pytest.mark.parametrize("text", [
    # CRLF line ends, a blank line, a quoted field holding a comma, one running over two lines
    HEADER + "\r\n" + "a1,voice,4520000001,4533123456,2026-10-05T09:15:00+02:00,60,,,DK,\r\n\r\n"
    + 'a2,voice,"4520000002",4533123456,2026-10-05T09:16:00+02:00,60,,,DK,\r\n'
    + '"a,3",voice,4520000003,4533123456,2026-10-05T09:17:00+02:00,60,,,DK,\r\n'
    + '"a\n4",voice,4520000004,4533123456,2026-10-05T09:18:00+02:00,60,,,DK,\r\n'
    + "a5,voice,4520000005,4533123456,2026-10-05T09:19:00+02:00,60,,,DK,\r\n",
    # columns in another order with an extra column; a BOM; the A-number written with 00 and spaces
    "\ufeffcharge,location,quantity,volume,duration,start_time,b_number,a_number,service,record_id,note\n"
    "19.00,,1,,,2026-10-07T16:00:00+02:00,1999,0045 2000 0001,content,c1,x\n"
    ",DK,,,61,2026-10-05T09:20:00+02:00,4520999999,4520000001,voice,c2,y\n",
    # CRLF line ends without a quote anywhere (the worker's quick path), the A-number last
    "record_id,service,b_number,start_time,duration,volume,quantity,location,charge,a_number\r\n"
    "d1,voice,4533123456,2026-10-05T09:15:00+02:00,60,,,DK,,4520000001\r\n"
    "d2,sms,4533123456,2026-10-05T09:16:00+02:00,,,1,,,+4520000002\r\n",
    # lines that fail: too few fields, a bad number, a bad time, one field too many
    HEADER + "\n" + "b1,voice,4520000001\n" + "b2,voice,45-20-x,4533123456,2026-10-05T09:15:00+02:00,60,,,DK,\n"
    + "b3,sms,4520000001,4533123456,yesterday,,,1,,\n"
    + "b4,voice,4520000001,4533123456,2026-10-05T09:15:00+02:00,60,,,DK,,extra\n"
    + "b5,data,4520000001,,2026-10-05T10:00:00+02:00,,52428800,,DK,",  # no line end at the end of the file
])
def test_awkward_files_read_the_same_cut_or_whole(text, monkeypatch):
    outcomes, _partitions = cut(text)
    same(outcomes, whole(text))
    small, _ = cut(text, partitions=2, limit=1)  # flushed a record at a time: nothing lost, nothing twice
    same(small, outcomes)
    monkeypatch.setattr(canonical, "BLOCK", 7)  # lines (and quoted fields) cut by the blocks' ends
    blocks, _ = cut(text)
    same(blocks, outcomes)


def test_a_subscribers_records_share_a_route_however_the_number_is_written():
    text = HEADER + "\n" + "\n".join(
        f"r{i},sms,{number},4533123456,2026-10-05T09:15:00+02:00,,,1,," for i, number in
        enumerate(["4520000001", "+4520000001", "004520000001", "+45 20 00 00 01", '"+45 2000-0001"']))
    _outcomes, partitions = cut(text)
    assert set(partitions) == {partition_of("4520000001")}


@pytest.mark.parametrize("text", [
    "",  # empty
    "record_id,service,a_number\nx,voice,4520000001\n",  # a header missing columns: every line fails the same way
    HEADER + "\ra1,voice,4520000001,4533123456,2026-10-05T09:15:00+02:00,60,,,DK,\r",  # bare carriage returns
])
def test_files_that_cannot_be_cut_are_read_whole(text):
    assert canonical.split(io.BytesIO(text.encode())) is None
