"""TS 32.298 BER files: encoded here with pycrate (telora.rating.formats.ber_write), read back by
both decoders, which must agree; bad records fail alone, framing errors end the file with the rest
reported; records rate on the reference catalogue."""

import datetime as dt
import io
from decimal import Decimal

import pytest

from telora.rating import formats
from telora.rating.engine import Ignored, ParseFailure, SubscriberContext, UsageRecord
from telora.rating.formats import ber
from telora.rating.formats import ber_write as w

CEST = dt.timezone(dt.timedelta(hours=2))
T0 = dt.datetime(2026, 10, 5, 9, 15, tzinfo=CEST)
SUB = "4520000001"


def sample_file() -> bytes:
    return b"".join([
        w.pgw_record(SUB, T0, [(1000, 52427800)], charging_id=77, sequence=3),  # 50 MB at home (MCC 238)
        w.pgw_record(SUB, T0 + dt.timedelta(days=7), [(4857600, 50000000), (0, 50000000)], charging_id=78,
                     mcc="240", mnc="08"),  # 100 MB in Sweden, two rating groups
        w.moc_record(SUB, "4533123456", T0, 125),
        w.moc_record(SUB, "33123456", T0, 0, answered=False, called_ton=w.TON_NATIONAL, reference=b"\x09"),
        w.mtc_record(SUB, "46812345678", T0, 60),
        w.mo_sms_record(SUB, "4533123456", T0),
        w.mo_sms_record(SUB, "4533123456", T0, reference=b"\x08", failed=True),
        w.mt_sms_record(SUB, T0),
        w.location_update_record(),
    ])


def read(data: bytes, **options):
    return list(formats.parse("ber", io.BytesIO(data), **options))


@pytest.fixture(scope="module")
def decoded():
    return read(sample_file(), country_code="45")


def test_every_record_type(decoded):
    rows = [(o.record_id, o.service, o.a_number, o.b_number, o.duration, o.volume, o.quantity, o.location,
             o.direction, o.line) if isinstance(o, UsageRecord) else (type(o).__name__, o.line) for o in decoded]
    assert rows == [
        ("pgw:pgw01:77:3:3", "data", SUB, "", 0, 52428800, 1, "DK", "out", 1),
        ("pgw:pgw01:78::", "data", SUB, "", 0, 104857600, 1, "SE", "out", 2),
        ("moc:4520900000:0001:", "voice", SUB, "4533123456", 125, 0, 1, "", "out", 3),
        ("moc:4520900000:09:", "voice", SUB, "4533123456", 0, 0, 1, "", "out", 4),  # national number, unanswered
        ("mtc:4520900000:0002:", "voice", SUB, "46812345678", 60, 0, 1, "", "in", 5),
        ("mosms:4520900000:4520000001:2610050915002b0200:07", "sms", SUB, "4533123456", 0, 0, 1, "", "out", 6),
        ("mosms:4520900000:4520000001:2610050915002b0200:08", "sms", SUB, "4533123456", 0, 0, 0, "", "out", 7),
        ("mtsms:4520900000:4520000001:2610050915002b0200", "sms", SUB, "", 0, 0, 1, "", "in", 8),
        ("Ignored", 9),
    ]
    assert decoded[0].start_time == T0  # recordOpeningTime with its +02:00
    assert decoded[2].start_time == T0 + dt.timedelta(seconds=5)  # answerTime
    assert decoded[3].start_time == T0  # seizureTime when never answered


def test_pycrate_decodes_the_same(decoded):
    full = read(sample_file(), country_code="45", decoder="pycrate")
    assert [o for o in full if isinstance(o, UsageRecord)] == [o for o in decoded if isinstance(o, UsageRecord)]
    assert [o.reason for o in full if isinstance(o, Ignored)] == ["locUpdateVLRRecord is not usage"]


def test_without_a_country_code_national_numbers_stay_as_they_are():
    (record,) = read(w.moc_record(SUB, "33123456", T0, 10, called_ton=w.TON_NATIONAL))
    assert record.b_number == "33123456"


def test_padding_between_records_and_at_the_end_is_skipped():
    one = w.moc_record(SUB, "4533123456", T0, 60)
    assert len(read(b"\x00\x00" + one + b"\xff" * 5 + one + b"\x00" * 100)) == 2


def test_streams_across_small_chunks(monkeypatch, decoded):
    monkeypatch.setattr(ber, "CHUNK", 7)
    assert read(sample_file(), country_code="45") == decoded


def test_indefinite_length_records_are_read():
    definite = w.moc_record(SUB, "4533123456", T0, 60)
    _cls, _cons, _num, start, stop, _after = ber._element(definite, 0, len(definite))
    indefinite = definite[:1] + b"\x80" + definite[start:stop] + b"\x00\x00"
    assert read(indefinite) == read(definite)


def test_a_record_missing_what_rating_needs_fails_alone():
    bad = w.moc_record("", "4533123456", T0, 60)  # servedMSISDN with no digits
    good = w.moc_record(SUB, "4533123456", T0, 60)
    out = read(bad + good)
    assert isinstance(out[0], ParseFailure) and out[0].line == 1
    assert "moCallRecord: moCallRecord: servedMSISDN has no digits" in out[0].reason
    assert out[0].text == bad.hex() and isinstance(out[1], UsageRecord)


def test_bad_field_contents_fail_the_record():
    value = w.moc_record(SUB, "4533123456", T0, 60)
    stamp = w.timestamp(T0 + dt.timedelta(seconds=5))  # the answer time
    broken = value.replace(stamp, stamp[:1] + b"\x99" + stamp[2:], 1)  # month 99
    (failure,) = read(broken)
    assert isinstance(failure, ParseFailure) and "offset 0: moCallRecord:" in failure.reason


def test_a_broken_length_ends_the_file_with_the_rest_reported():
    good = w.mo_sms_record(SUB, "4533123456", T0)
    truncated = w.moc_record(SUB, "4533123456", T0, 60)[:-10]
    out = read(good + truncated)
    assert isinstance(out[0], UsageRecord)
    failure = out[1]
    assert isinstance(failure, ParseFailure) and failure.line == 2
    assert failure.reason.startswith(f"offset {len(good)}:") and f"{len(truncated)} bytes not read" in failure.reason
    assert failure.text == truncated.hex()


def test_something_that_is_not_a_cdr():
    (failure,) = read(b"\x30\x03\x02\x01\x05")  # a universal SEQUENCE
    assert "not a CS or GPRS record" in failure.reason


def test_families_can_be_forced():
    pgw = w.pgw_record(SUB, T0, [(1, 2)])
    assert isinstance(read(pgw, family="gprs")[0], UsageRecord)
    (record,) = read(pgw, family="cs")  # [79] is no CS record
    assert isinstance(record, ParseFailure)


def test_unknown_decoder():
    with pytest.raises(ValueError, match="unknown decoder"):
        read(b"", decoder="asn1c")


@pytest.mark.parametrize("octets, digits", [
    (bytes.fromhex("9154020000f1"), "452000001"),  # an odd count ends with the filler F
    (bytes.fromhex("915402000010"), "4520000001"),
    (bytes.fromhex("0180") + bytes.fromhex("5402"), "4520"),  # octet 3a after an extension bit 0
])
def test_addresses(octets, digits):
    assert ber.address(octets) == digits


def test_timestamps_and_countries():
    assert ber.timestamp(bytes.fromhex("2610050915302d0330")) == dt.datetime(
        2026, 10, 5, 9, 15, 30, tzinfo=dt.timezone(-dt.timedelta(hours=3, minutes=30)))
    assert (ber.plmn_country(w.plmn("238", "01")), ber.plmn_country(w.plmn("310", "410")),
            ber.plmn_country(w.plmn("999", "99")), ber.plmn_country(None)) == ("DK", "US", "ZZ", "")


def test_ber_records_rate_on_the_reference_catalogue(reference_rater):
    result = reference_rater.rate(read(sample_file(), country_code="45"),
                                  [SubscriberContext(1, "MOB_POST_BASIC", numbers=(SUB,))])
    charges = {r.record.record_id: (r.zone, r.charge) for r in result.rated}
    assert charges == {
        "pgw:pgw01:77:3:3": ("HOME", Decimal("5.000000")),
        "pgw:pgw01:78::": ("EU_ROAM", Decimal("10.000000")),
        "moc:4520900000:0001:": ("DK", Decimal("0.625000")),  # answered 09:15:05, PEAK, q = 125
        "moc:4520900000:09:": ("DK", Decimal("0.000000")),
        "mtc:4520900000:0002:": ("EU", Decimal("0.000000")),  # incoming: kept, not charged
        "mosms:4520900000:4520000001:2610050915002b0200:07": ("DK", Decimal("0.250000")),
        "mosms:4520900000:4520000001:2610050915002b0200:08": ("DK", Decimal("0.000000")),  # failed delivery
        "mtsms:4520900000:4520000001:2610050915002b0200": (None, Decimal("0.000000")),
    }
    assert result.failed == [] and len(result.ignored) == 1
