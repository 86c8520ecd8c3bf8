"""Writing TS 32.298 BER records with pycrate: real-shaped files for tests, benchmarks and demo
data (a switch simulator in a few lines). Each function returns one encoded record; a bare file is
their concatenation, `cdr_file` wraps them in a TS 32.297 CDR file (file header, CDR headers)."""

from __future__ import annotations

import datetime as dt

from pycrate_asn1dir import CDR

CS = CDR.CSChargingDataTypes
GPRS = CDR.GPRSChargingDataTypes

TON_INTERNATIONAL = 0x91  # extension bit, international number, ISDN numbering plan
TON_NATIONAL = 0xA1


def tbcd(digits: str) -> bytes:
    if len(digits) % 2:
        digits += "F"
    return bytes(int(digits[i + 1], 16) << 4 | int(digits[i], 16) for i in range(0, len(digits), 2))


def address(digits: str, ton: int = TON_INTERNATIONAL) -> bytes:
    """An AddressString / BCD number: type of number octet, then TBCD digits."""
    return bytes([ton]) + tbcd(digits)


def sms_address(digits: str, ton: int = TON_INTERNATIONAL) -> bytes:
    """A TS 23.040 address field: digit count, type of address, TBCD digits."""
    return bytes([len(digits), ton]) + tbcd(digits)


def timestamp(moment: dt.datetime) -> bytes:
    """TimeStamp: BCD YYMMDDhhmmss, '+' or '-', BCD hhmm of the offset from UTC."""
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60)
    sign = b"+" if minutes >= 0 else b"-"
    minutes = abs(minutes)
    fields = (moment.year % 100, moment.month, moment.day, moment.hour, moment.minute, moment.second,)
    return (bytes(int(f"{v:02d}", 16) for v in fields) + sign
            + bytes(int(f"{v:02d}", 16) for v in (minutes // 60, minutes % 60)))


def plmn(mcc: str, mnc: str) -> bytes:
    mnc3 = mnc[2] if len(mnc) == 3 else "F"
    return bytes([int(mcc[1]) << 4 | int(mcc[0]), int(mnc3, 16) << 4 | int(mcc[2]), int(mnc[1]) << 4 | int(mnc[0])])


def _encode(choice, name: str, value: dict) -> bytes:
    choice.set_val((name, value))
    return choice.to_ber()


def pgw_record(msisdn: str, opened: dt.datetime, volumes: list[tuple[int, int]], *, charging_id: int = 1,
               node: str = "pgw01", sequence: int | None = None, mcc: str = "238", mnc: str = "01",
               duration: int = 600, imsi: str = "238010000000001") -> bytes:
    """A PGW-CDR with one service data container per (uplink, downlink) pair."""
    stamp = timestamp(opened)
    value = {
        "recordType": 85,
        "servedIMSI": tbcd(imsi),
        "p-GWAddress": ("iPBinaryAddress", ("iPBinV4Address", bytes([192, 0, 2, 1]))),
        "chargingID": charging_id,
        "servingNodeAddress": [("iPBinaryAddress", ("iPBinV4Address", bytes([192, 0, 2, 2])))],
        "accessPointNameNI": "internet",
        "pdpPDNType": b"\xf1\x21",
        "recordOpeningTime": stamp,
        "duration": duration,
        "causeForRecClosing": 0,
        "nodeID": node,
        "servedMSISDN": address(msisdn),
        "chargingCharacteristics": b"\x08\x00",
        "servingNodePLMNIdentifier": plmn(mcc, mnc),
        "servingNodeType": ["gTPSGW"],
        "rATType": 6,
        "listOfServiceData": [
            {"ratingGroup": 100 + i, "datavolumeFBCUplink": up, "datavolumeFBCDownlink": down,
             "timeOfFirstUsage": stamp, "timeOfLastUsage": stamp, "timeUsage": duration,
             "serviceConditionChange": (1 << 24, 38), "timeOfReport": stamp}
            for i, (up, down) in enumerate(volumes)],
    }
    if sequence is not None:
        value["recordSequenceNumber"] = sequence
        value["localSequenceNumber"] = sequence
    return _encode(GPRS.GPRSRecord, "pGWRecord", value)


def _call(msisdn: str, other_key: str, other: bytes | None, seized: dt.datetime, answered: dt.datetime | None,
          duration: int, reference: bytes, msc: str) -> dict:
    value = {
        "recordType": 1,
        "servedIMSI": tbcd("238010000000001"),
        "servedMSISDN": address(msisdn),
        "recordingEntity": address(msc),
        "seizureTime": timestamp(seized),
        "releaseTime": timestamp(seized + dt.timedelta(seconds=duration + 5)),
        "callDuration": duration,
        "causeForTerm": 0,
        "callReference": reference,
    }
    if other is not None:
        value[other_key] = other
    if answered is not None:
        value["answerTime"] = timestamp(answered)
    return value


def moc_record(msisdn: str, called: str, seized: dt.datetime, duration: int, *, answered: bool = True,
               reference: bytes = b"\x00\x01", msc: str = "4520900000", called_ton: int = TON_INTERNATIONAL) -> bytes:
    """An MSC mobile-originated call; answered 5 s after seizure unless `answered` is False."""
    answer = seized + dt.timedelta(seconds=5) if answered else None
    value = _call(msisdn, "calledNumber", address(called, called_ton), seized, answer, duration, reference, msc)
    value["basicService"] = ("teleservice", b"\x11")
    return _encode(CS.CSRecord, "moCallRecord", value)


def mtc_record(msisdn: str, calling: str | None, seized: dt.datetime, duration: int, *,
               reference: bytes = b"\x00\x02", msc: str = "4520900000") -> bytes:
    value = _call(msisdn, "callingNumber", address(calling) if calling else None, seized,
                  seized + dt.timedelta(seconds=5), duration, reference, msc)
    value["recordType"] = 2
    return _encode(CS.CSRecord, "mtCallRecord", value)


def mo_sms_record(msisdn: str, destination: str, sent: dt.datetime, *, reference: bytes = b"\x07",
                  msc: str = "4520900000", failed: bool = False) -> bytes:
    value = {
        "recordType": 6,
        "servedIMSI": tbcd("238010000000001"),
        "servedMSISDN": address(msisdn),
        "msClassmark": b"\x57\x58\xa6",
        "serviceCentre": address("4540590000"),
        "recordingEntity": address(msc),
        "messageReference": reference,
        "originationTime": timestamp(sent),
        "destinationNumber": sms_address(destination),
    }
    if failed:
        value["smsResult"] = ("gsm0902MapErrorValue", 27)
    return _encode(CS.CSRecord, "moSMSRecord", value)


def mt_sms_record(msisdn: str, delivered: dt.datetime, *, msc: str = "4520900000") -> bytes:
    value = {
        "recordType": 7,
        "serviceCentre": address("4540590000"),
        "servedIMSI": tbcd("238010000000001"),
        "servedMSISDN": address(msisdn),
        "msClassmark": b"\x57\x58\xa6",
        "recordingEntity": address(msc),
        "deliveryTime": timestamp(delivered),
    }
    return _encode(CS.CSRecord, "mtSMSRecord", value)


def location_update_record(msc: str = "4520900000") -> bytes:
    """A record that is not usage (an MSC location update in the VLR)."""
    value = {"recordType": 13, "servedIMSI": tbcd("238010000000001"), "recordingEntity": address(msc),
             "newLocation": {"mscNumber": address(msc), "location-area": b"\x00\x01"}, "msClassmark": b"\x57\x58\xa6",
             "updateTime": timestamp(dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC))}
    return _encode(CS.CSRecord, "locUpdateVLRRecord", value)


# ---- TS 32.297 CDR files ----------------------------------------------------------------------

TS_CODES = {"32.250": 6, "32.251": 7}  # CS domain (MSC) and PS domain (P-GW) charging
FORMAT_CODES = {"ber": 1, "uper": 2, "per": 3, "xer": 4}


def _release_octet(release: int, version: int) -> tuple[int, bytes]:
    """(release identifier << 5 | version, the extension octet for Rel-10 and later)."""
    releases = {99: 0, 4: 1, 5: 2, 6: 3, 7: 4, 8: 5, 9: 6}
    if release >= 10 and release != 99:
        return 7 << 5 | version, bytes([release - 10])
    return releases[release] << 5 | version, b""


def header_timestamp(moment: dt.datetime) -> bytes:
    """The file header's 4-octet timestamp: month, day, hour, minute, the sign (1 = ahead of UTC)
    and the hours and minutes of the offset from UTC."""
    minutes = int(moment.utcoffset().total_seconds() // 60)
    ahead, minutes = (1 if minutes >= 0 else 0), abs(minutes)
    value = (moment.month << 28 | moment.day << 23 | moment.hour << 18 | moment.minute << 12 | ahead << 11
             | (minutes // 60) << 6 | minutes % 60)
    return value.to_bytes(4, "big")


def node_address(text: str) -> bytes:
    """The 20 octets of the node's IP address: IPv4 after sixteen 0xFF, IPv6 after four."""
    import ipaddress

    address = ipaddress.ip_address(text)
    pad = 16 if address.version == 4 else 4
    return b"\xff" * pad + address.packed


def file_header(*, cdr_count: int, file_length: int, opened: dt.datetime, appended: dt.datetime,
                sequence: int = 1, closure_reason: int = 0, node: str = "192.0.2.10", lost: int = 0,
                high: tuple[int, int] = (15, 0), low: tuple[int, int] = (15, 0), routeing_filter: bytes = b"",
                private_extension: bytes = b"") -> bytes:
    """A TS 32.297 file header (6.1.1): file length, header length, high and low release and
    version, opening and last-append timestamps, CDR count, sequence number, closure reason, node
    address, lost CDR indicator, routeing filter, private extension, release extensions."""
    high_octet, high_ext = _release_octet(*high)
    low_octet, low_ext = _release_octet(*low)
    rest = (bytes([high_octet, low_octet]) + header_timestamp(opened) + header_timestamp(appended)
            + cdr_count.to_bytes(4, "big") + sequence.to_bytes(4, "big") + bytes([closure_reason])
            + node_address(node) + bytes([lost]) + len(routeing_filter).to_bytes(2, "big") + routeing_filter
            + len(private_extension).to_bytes(2, "big") + private_extension + high_ext + low_ext)
    return file_length.to_bytes(4, "big") + (8 + len(rest)).to_bytes(4, "big") + rest


def cdr_header(length: int, *, release: int = 15, version: int = 0, data_format: str = "ber",
               ts: str = "32.250") -> bytes:
    """A CDR header (6.1.2): CDR length (2 octets, without the header), release and version
    identifier, data record format and TS number, the release extension octet from Rel-10."""
    octet, extension = _release_octet(release, version)
    return length.to_bytes(2, "big") + bytes([octet, FORMAT_CODES[data_format] << 5 | TS_CODES[ts]]) + extension


def cdr_file(records: list, *, opened: dt.datetime | None = None, appended: dt.datetime | None = None,
             cdr_count: int | None = None, ts: str = "32.250", **header) -> bytes:
    """Records wrapped in a TS 32.297 CDR file. Each item is a record's bytes, or (bytes, dict of
    cdr_header options) to vary one CDR's header (`ts`, `data_format`, `release`...). `cdr_count`
    overrides the count in the file header (a wrong count, for tests)."""
    moment = opened or dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)
    body = b""
    for item in records:
        data, options = item if isinstance(item, tuple) else (item, {})
        body += cdr_header(len(data), **({"ts": ts} | options)) + data
    count = len(records) if cdr_count is None else cdr_count
    probe = file_header(cdr_count=count, file_length=0, opened=moment, appended=appended or moment, **header)
    return file_header(cdr_count=count, file_length=len(probe) + len(body), opened=moment,
                       appended=appended or moment, **header) + body
