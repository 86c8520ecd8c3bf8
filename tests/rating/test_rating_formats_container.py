"""TS 32.297 CDR files (file header, then a CDR header before each CDR) around TS 32.298 BER records:
written with ber_write.cdr_file and once by hand with struct.pack from the spec's layout, read by
the `ber` format (detected, or forced with `container`)."""

import datetime as dt
import io
import os
import struct
import time
from pathlib import Path

import pytest

from telora.core import clock
from telora.rating import formats
from telora.rating.engine import ParseFailure, UsageRecord
from telora.rating.formats import ber
from telora.rating.formats import ber_write as w

CEST = dt.timezone(dt.timedelta(hours=2))
T0 = dt.datetime(2026, 10, 5, 9, 15, tzinfo=CEST)
SUB = "4520000001"


def records() -> list[bytes]:
    return [
        w.moc_record(SUB, "4533123456", T0, 125),
        w.mtc_record(SUB, "46812345678", T0, 60),
        w.mo_sms_record(SUB, "4533123456", T0),
        w.mt_sms_record(SUB, T0),
        w.location_update_record(),
    ]


def pgw() -> bytes:
    return w.pgw_record(SUB, T0, [(1000, 52427800)], charging_id=77, sequence=3)


def read(data: bytes, **options):
    return list(formats.parse("ber", io.BytesIO(data), **options))


def summary(outcomes):
    return [(o.record_id, o.service, o.a_number, o.b_number, o.start_time, o.duration, o.volume, o.quantity,
             o.location, o.direction, o.line) if isinstance(o, UsageRecord) else (type(o).__name__, o.line, o.reason)
            for o in outcomes]


@pytest.mark.parametrize("decoder", ["fast", "pycrate"])
def test_a_cdr_file_reads_like_its_bare_records(decoder):
    cs = records()
    wrapped = w.cdr_file([*cs, (pgw(), {"ts": "32.251"})], sequence=42)
    assert wrapped[:4] == len(wrapped).to_bytes(4, "big")
    outcomes = read(wrapped, decoder=decoder)
    assert summary(outcomes) == summary(read(b"".join([*cs, pgw()]), decoder=decoder))
    assert [type(o).__name__ for o in outcomes] == ["UsageRecord"] * 4 + ["Ignored", "UsageRecord"]
    assert outcomes[-1].record_id == "pgw:pgw01:77:3:3" and outcomes[-1].volume == 52428800


def test_the_file_header_written_is_read_back():
    data = w.cdr_file(records()[:2], sequence=9, closure_reason=2, node="2001:db8::7", lost=0x81,
                      high=(17, 3), low=(8, 1), routeing_filter=b"MSC-1", private_extension=b"\x01\x02\x03",
                      opened=dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.timezone(-dt.timedelta(hours=5, minutes=30))),
                      appended=dt.datetime(2026, 1, 1, 0, 1, tzinfo=dt.UTC))
    header = ber.read_file_header(data)
    # 50 fixed octets, the filter (5), the private extension's length (2) and content (3), one
    # release extension octet (the high release 17 is identifier 7 + 7; the low, 8, has none).
    assert header.header_length == 50 + 5 + 2 + 3 + 1
    assert (header.file_length, header.cdr_count, header.sequence, header.closure_reason) == (len(data), 2, 9, 2)
    assert (header.high_release, header.high_version, header.low_release, header.low_version) == (17, 3, 8, 1)
    assert header.opened == (12, 31, 23, 59, -330) and header.appended == (1, 1, 0, 1, 0)
    assert (header.node_address, header.lost_cdrs) == ("2001:db8::7", 0x81)
    assert (header.routeing_filter, header.private_extension) == (b"MSC-1", b"\x01\x02\x03")
    assert [o.line for o in read(data)] == [1, 2]


def test_a_file_built_by_hand_from_the_spec_layout():
    moc, pgw_cdr = w.moc_record(SUB, "4533123456", T0, 125), pgw()
    xer = b"<moCallRecord/>"
    # CDR headers (6.1.2): length (2 octets); release identifier (3 bits) + version (5 bits); data
    # record format (3 bits) + TS number (5 bits); from Rel-10 (identifier 7) the release - 10.
    cdrs = (struct.pack(">HBB", len(moc), 5 << 5 | 3, 1 << 5 | 6) + moc  # Rel-8 v3, BER, TS 32.250
            + struct.pack(">HBBB", len(pgw_cdr), 7 << 5 | 2, 1 << 5 | 7, 5) + pgw_cdr  # Rel-15 v2, BER, TS 32.251
            + struct.pack(">HBB", len(xer), 5 << 5, 4 << 5 | 6) + xer)  # XER: fails alone
    routeing, private = b"MSC", b"\x00\x07"
    header_length = 4 + 4 + 1 + 1 + 4 + 4 + 4 + 4 + 1 + 20 + 1 + 2 + len(routeing) + 2 + len(private)
    assert header_length == 57
    # 5 October 09:00 at +02:00: month 10 (4 bits), day 5 (5), hour 9 (5), minute 0 (6), sign 1,
    # 2 hours (5 bits), 0 minutes (6): 1010 00101 01001 000000 1 00010 000000 = 0xA2A40880.
    opened = bytes.fromhex("a2a40880")
    file_header = (struct.pack(">II", header_length + len(cdrs), header_length)
                   + bytes([5 << 5 | 3, 3 << 5 | 0])  # high Rel-8 v3, low Rel-6 v0
                   + opened + opened
                   + struct.pack(">IIB", 3, 1234, 0)  # 3 CDRs, file sequence number 1234, normal closure
                   + b"\xff" * 16 + bytes([192, 0, 2, 1])  # the node's IPv4 address in 20 octets
                   + b"\x00"  # no CDR lost
                   + struct.pack(">H", len(routeing)) + routeing + struct.pack(">H", len(private)) + private)
    data = file_header + cdrs
    header = ber.read_file_header(data)
    assert (header.high_release, header.high_version, header.low_release, header.low_version) == (8, 3, 6, 0)
    assert header.opened == (10, 5, 9, 0, 120) and header.node_address == "192.0.2.1"
    assert (header.cdr_count, header.sequence, header.routeing_filter, header.private_extension) == (
        3, 1234, b"MSC", b"\x00\x07")
    outcomes = read(data)
    assert [o.record_id for o in outcomes[:2]] == ["moc:4520900000:0001:", "pgw:pgw01:77:3:3"]
    assert outcomes[0].duration == 125 and outcomes[1].volume == 52428800
    offset = 57 + 4 + len(moc) + 5 + len(pgw_cdr)
    assert outcomes[2] == ParseFailure(3, f"offset {offset}: CDR 3: data record format 4 is XER; only BER (1) is read",
                                       xer.hex())
    assert len(outcomes) == 3
    # The same bytes written by ber_write.
    written = w.cdr_file([(moc, {"release": 8, "version": 3}), (pgw_cdr, {"ts": "32.251", "version": 2}),
                          (xer, {"release": 8, "data_format": "xer"})], opened=dt.datetime(2026, 10, 5, 9, tzinfo=CEST),
                         sequence=1234, node="192.0.2.1", high=(8, 3), low=(6, 0), routeing_filter=routeing,
                         private_extension=private)
    assert written == data


def test_the_header_count_is_checked_and_records_are_kept():
    data = w.cdr_file(records()[:3], cdr_count=5, sequence=8)
    outcomes = read(data)
    assert [type(o).__name__ for o in outcomes] == ["UsageRecord"] * 3 + ["ParseFailure"]
    assert outcomes[3] == ParseFailure(4, "file header: 5 CDRs announced, 3 read", "", "file-header:8")


def test_the_ts_number_chooses_the_record_family():
    # A CS record in a CDR that says TS 32.251 (PS domain): tag 0 is no GPRS record.
    data = w.cdr_file([(w.moc_record(SUB, "4533123456", T0, 1), {"ts": "32.251"})])
    (failure,) = read(data)
    # The record starts after the 54-octet file header and the 5-octet CDR header.
    assert failure.reason == "offset 59: not a CS or GPRS record (tag class 2, number 0)"
    assert read(data, family="cs")[0].record_id == "moc:4520900000:0001:"


def test_broken_cdrs_fail_alone_and_a_truncated_file_ends_with_one_failure():
    good, bad = records()[0], b"\x30\x03\x02\x01"  # bad: a length that runs past the CDR
    trailing = records()[2] + b"\x05\x00"
    data = w.cdr_file([good, bad, trailing, good])
    outcomes = read(data)
    kinds = [(type(o).__name__, o.line) for o in outcomes]
    assert kinds == [("UsageRecord", 1), ("ParseFailure", 2), ("ParseFailure", 3), ("UsageRecord", 4)]
    assert outcomes[1].reason.endswith("CDR 2: length runs past the end")
    assert outcomes[2].reason.endswith("CDR 3: 2 octets after the record")
    cut = data[:-10]
    outcomes = read(cut)
    assert [type(o).__name__ for o in outcomes] == ["UsageRecord", "ParseFailure", "ParseFailure", "ParseFailure",
                                                    "ParseFailure"]
    assert "CDR 4: " in outcomes[3].reason and "octets announced, the file ends after" in outcomes[3].reason
    assert outcomes[4].reason == f"file header: file length {len(data)} octets, {len(cut)} read"


def test_padding_at_the_end_is_allowed():
    data = w.cdr_file(records()[:1])
    padded = (len(data) + 6).to_bytes(4, "big") + data[4:] + b"\x00" * 6
    assert [type(o).__name__ for o in read(padded)] == ["UsageRecord"]


def test_the_container_option():
    bare = b"".join(records())
    wrapped = w.cdr_file(records())
    assert summary(read(wrapped, container="32.297")) == summary(read(bare, container="none"))
    assert summary(read(bare)) == summary(read(bare, container="none"))  # auto: a bare file stays bare
    as_bare = read(wrapped, container="none")
    assert len(as_bare) == 1 and as_bare[0].reason.endswith("bytes not read")
    (forced,) = read(bare, container="32.297")
    assert forced.reason.startswith("offset 0: file header: header length")
    with pytest.raises(ValueError, match="unknown container"):
        read(bare, container="zip")
    assert not ber.is_container(b"\x00" * 6 + bare[:2])  # zero padding before a bare record
    assert ber.is_container(wrapped[:8])


@pytest.mark.django_db
def test_a_cdr_file_through_the_collector_and_intake(brand_a, system, tmp_path):
    from telora.rating.models import FailedRecord, UsageFile
    from telora.rating.services.collector import collect_source, create_source

    source = create_source(brand_a, actor=system, at=clock.now(), code="msc1", format="ber",
                           inbox=str(tmp_path / "inbox"), pattern="*.ber")
    inbox = Path(source.inbox)
    inbox.mkdir()
    path = inbox / "MSC1_0001.ber"
    path.write_bytes(w.cdr_file([*records(), (b"\x01", {"data_format": "per"})], cdr_count=7))
    stamp = time.time() - 60
    os.utime(path, (stamp, stamp))
    report = collect_source(source, actor=system, at=clock.now())
    assert [(t.name, t.outcome) for t in report.taken] == [("MSC1_0001.ber", "archived")]
    usage_file = UsageFile.objects.get()
    # 4 usage records, 1 ignored (location update), the PER CDR and the count failed.
    assert (usage_file.read, usage_file.failed, usage_file.ignored) == (7, 2, 1)
    # The default header: 50 fixed octets, 2 for the empty private extension, 2 release extensions;
    # Rel-15 CDR headers of 5 octets (the release extension).
    offset = 54 + sum(5 + len(r) for r in records())
    assert sorted(FailedRecord.objects.values_list("line", "detail")) == [
        (6, f"offset {offset}: CDR 6: data record format 3 is aligned PER; only BER (1) is read"),
        (7, "file header: 7 CDRs announced, 6 read")]
