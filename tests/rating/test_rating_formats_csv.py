"""The canonical usage CSV and the Asterisk and FreeSWITCH cdr_csv files: normalised records, and
every bad line reported with its number, reason and text."""

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from rating_helpers import ASTERISK, CDRS

from telora.rating import formats
from telora.rating.engine import ParseFailure, UsageRecord

CPH = ZoneInfo("Europe/Copenhagen")
HEADER = "record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"


def parse(fmt, text, **options):
    return list(formats.parse(fmt, io.StringIO(text, newline=""), **options))


class TestCanonical:
    def test_the_shared_example_exactly(self):
        out = list(formats.parse_path("csv", CDRS))
        assert len(out) == 12
        records = [o for o in out if isinstance(o, UsageRecord)]
        first = records[0]
        assert first == UsageRecord("nord-0001", "voice", "4520000001", "4533123456",
                                    dt.datetime(2026, 10, 5, 9, 15, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                                    duration=125, location="DK", line=2)
        by_id = {r.record_id: r for r in records}
        assert (by_id["nord-0003"].a_number, by_id["nord-0003"].b_number) == ("4520000001", "46812345678")  # '+'
        assert by_id["nord-0004"].b_number == "4959112345"  # '00'
        assert (by_id["nord-0005"].quantity, by_id["nord-0006"].volume) == (1, 52428800)
        assert (by_id["nord-0007"].location, by_id["nord-0009"].charge) == ("SE", Decimal("19.00"))
        assert [r.record_id for r in records].count("nord-0001") == 2  # the duplicate is the engine's business
        failure = out[-1]
        assert isinstance(failure, ParseFailure) and failure.line == 13 and failure.record_id == "nord-0011"
        assert failure.text == "nord-0011,voice,4520000001,,not-a-time,abc,,,DK,"
        assert "start_time: 'not-a-time' is not ISO 8601" in failure.reason and "duration: 'abc'" in failure.reason

    def test_columns_in_any_order_and_extra_columns(self):
        text = "start_time,service,record_id,a_number,b_number,extra,duration,volume,quantity,location,charge\n" \
               "2026-10-05T09:15:00Z,sms,r1,0045 20 00 00 01,+46 8 123,x,,,3,se,\n"
        (record,) = parse("csv", text)
        assert (record.record_id, record.a_number, record.b_number, record.quantity, record.location) == (
            "r1", "4520000001", "468123", 3, "SE")
        assert record.start_time == dt.datetime(2026, 10, 5, 9, 15, tzinfo=dt.UTC)

    def test_a_missing_header_fails_every_line(self):
        out = parse("csv", "nord-0001,voice,4520000001,4533123456,2026-10-05T09:15:00+02:00,125,,,DK,\nx,y\n")
        assert [(o.line, o.reason.startswith("header: missing column(s) record_id")) for o in out] == [
            (1, True), (2, True)]

    @pytest.mark.parametrize("line, reason", [
        ("r,voice,4520000001,4533123456,2026-10-05T09:15:00,60,,,,", "has no offset"),
        ("r,fax,4520000001,4533123456,2026-10-05T09:15:00+02:00,60,,,,", "service: 'fax'"),
        ("r,voice,45abc,4533123456,2026-10-05T09:15:00+02:00,60,,,,", "a_number: '45abc' is not a phone number"),
        ("r,voice,4520000001,4533123456,2026-10-05T09:15:00+02:00,-5,,,,", "duration: '-5'"),
        ("r,data,4520000001,,2026-10-05T09:15:00+02:00,,1.5,,,", "volume: '1.5'"),
        ("r,data,4520000001,,2026-10-05T09:15:00+02:00,,10,,Sweden,", "location: 'Sweden'"),
        ("r,content,4520000001,1999,2026-10-05T09:15:00+02:00,,,,,abc", "charge: 'abc'"),
        ("r,content,4520000001,1999,2026-10-05T09:15:00+02:00,,,,,NaN", "charge: 'NaN'"),
        (",voice,4520000001,4533123456,2026-10-05T09:15:00+02:00,60,,,,", "record_id: required"),
        ("r,voice,4520000001,4533123456,2026-10-05T09:15:00+02:00,60", "6 fields where the header has 10"),
    ])
    def test_bad_lines_say_why(self, line, reason):
        (failure,) = parse("csv", HEADER + line + "\n")
        assert isinstance(failure, ParseFailure) and failure.line == 2 and reason in failure.reason, failure.reason

    def test_blank_lines_and_a_bom_are_fine(self):
        out = parse("csv", "\ufeff" + HEADER + "\n" + "r,sms,4520000001,4533123456,2026-10-05T09:15:00+02:00,,,,,\n\n")
        assert [o.record_id for o in out] == ["r"]

    def test_quoted_fields_with_commas_keep_the_physical_line_number(self):
        text = HEADER + 'a,sms,4520000001,4533123456,2026-10-05T09:15:00+02:00,,,,,\n' \
                        '"b,1",voice,4520000001,4533123456,bad,,,,,\n'
        good, bad = parse("csv", text)
        assert bad.line == 3 and bad.record_id == "b,1" and bad.text.startswith('"b,1",voice')

    def test_it_streams(self):
        lines = (HEADER if i == 0 else f"r{i},sms,4520000001,4533123456,2026-10-05T09:15:00+02:00,,,,,\n"
                 for i in range(10**6))

        class Endless(io.TextIOBase):
            def __iter__(self):
                return lines

        first = next(formats.parse("csv", Endless()))
        assert first.record_id == "r1"


class TestAsterisk:
    def test_the_shared_example_exactly(self):
        out = list(formats.parse_path("asterisk", ASTERISK, timezone="Europe/Copenhagen"))
        assert [(o.record_id, o.a_number, o.b_number, o.duration) for o in out] == [
            ("1759475700.1", "4520000001", "4633123456", 125),  # ANSWERED: billsec, not duration (130)
            ("1759478400.3", "4520000001", "4533123456", 0),  # NO ANSWER
            ("1759595400.5", "4520000002", "4520999999", 900),
            ("1759597200.7", "4520000002", "4533123456", 0),  # BUSY
        ]
        assert out[0].start_time == dt.datetime(2026, 10, 3, 9, 15, tzinfo=CPH)  # 'start', local
        assert all(o.service == "voice" and o.direction == "out" for o in out)

    def test_the_timezone_defaults_to_utc_when_not_given(self):
        (record, *_rest) = formats.parse_path("asterisk", ASTERISK)
        assert record.start_time.utcoffset() == dt.timedelta(0)

    def test_bad_lines(self):
        good = '"","4520000001","4533123456","c","","SIP/1","SIP/2","Dial","x","2026-10-03 09:15:00",' \
               '"2026-10-03 09:15:05","2026-10-03 09:17:10",130,125,"ANSWERED","DOCUMENTATION","u1",""'
        out = parse("asterisk", good.replace('"4533123456"', '"s"') + "\n" + good.replace("ANSWERED", "WEIRD")
                    + "\n" + '"",1,2\n' + good.replace(',125,', ',x,') + "\n")
        assert [(o.line, o.reason) for o in out] == [
            (1, "dst: 's' is not a phone number"),
            (2, "disposition: 'WEIRD' is not ANSWERED, NO ANSWER, BUSY, FAILED or CONGESTION"),
            (3, "3 fields where cdr_csv writes at least 16"),
            (4, "billsec: 'x' is not a whole number"),
        ]
        assert out[0].record_id == "u1"

    def test_without_uniqueid_the_id_is_channel_and_start(self):
        line = '"","4520000001","4533123456","c","","SIP/1-01","SIP/2","Dial","x","2026-10-03 09:15:00","",' \
               '"2026-10-03 09:15:10",10,0,"NO ANSWER","DOCUMENTATION"'
        (record,) = parse("asterisk", line + "\n", timezone=CPH)
        assert record.record_id == "SIP/1-01@2026-10-03 09:15:00" and record.duration == 0


class TestFreeSwitch:
    EXAMPLE = (
        '"Alice","+4520000001","004633123456","default","2026-10-03 09:15:00","2026-10-03 09:15:05",'
        '"2026-10-03 09:17:10","130","125","NORMAL_CLEARING","a5c9f6c0-e752-11e3-8bfb-65b6c3cdac7d","",'
        '"","PCMA","PCMA"\n'
        '"Bob","4520000002","4533123456","default","2026-10-03 10:00:00","","2026-10-03 10:00:20","20","0",'
        '"NO_ANSWER","e29ff0ae-e752-11e3-8bff-65b6c3cdac7d","",""\n'
        '"Bob","4520000002","4520999999","default","2026-10-04 18:30:00","2026-10-04 18:30:02",'
        '"2026-10-04 18:45:02","902","900","NORMAL_CLEARING","e2fe712e-e752-11e3-8c03-65b6c3cdac7d","", "1001"\n'
    )

    def test_the_default_templates(self):
        out = parse("freeswitch", self.EXAMPLE, timezone="Europe/Copenhagen")
        assert [(o.record_id, o.a_number, o.b_number, o.duration, o.line) for o in out] == [
            ("a5c9f6c0-e752-11e3-8bfb-65b6c3cdac7d", "4520000001", "4633123456", 125, 1),
            ("e29ff0ae-e752-11e3-8bff-65b6c3cdac7d", "4520000002", "4533123456", 0, 2),  # unanswered
            ("e2fe712e-e752-11e3-8c03-65b6c3cdac7d", "4520000002", "4520999999", 900, 3),  # built-in template
        ]
        assert out[0].start_time == dt.datetime(2026, 10, 3, 9, 15, tzinfo=CPH)

    def test_bad_lines(self):
        out = parse("freeswitch", '"A","anonymous","123","d","2026-10-03 09:15:00","","x","1","1","C","",""," "\n'
                                  '"short","1"\n')
        assert out[0].reason == "uuid: required; caller_id_number: 'anonymous' is not a phone number"
        assert out[1].reason.startswith("2 fields where cdr_csv's default template writes 13")


def test_the_registry():
    assert formats.names() == ["asterisk", "ber", "csv", "freeswitch"]
    assert formats.get("ber").binary and not formats.get("csv").binary
    with pytest.raises(KeyError, match="unknown usage format 'cisco'"):
        formats.get("cisco")
    out = list(formats.parse_bytes("csv", CDRS.read_bytes()))
    assert len(out) == 12


def test_a_format_can_be_added():
    formats.register(formats.Format("test-null", "Nothing", False, "telora.rating.formats.canonical"))
    try:
        assert list(formats.parse("test-null", io.StringIO(""))) == []
    finally:
        formats._REGISTRY.pop("test-null")
