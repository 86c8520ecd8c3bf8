"""3GPP TS 32.298 CDRs in ASN.1 BER (`--format ber`): a file of BER-encoded records one after the
other, each a `CSRecord` (MSC: MOC, MTC, MO-SMS, MT-SMS) or a `GPRSRecord` (P-GW: PGW-CDR).

The ASN.1 definitions are pycrate's compiled TS 32.298 modules (`pycrate_asn1dir.CDR`:
CSChargingDataTypes, GPRSChargingDataTypes); nothing about the records is typed in by hand. Two
decoders read them:

- "fast" (default): a small BER TLV walker that reads only the fields rating needs, locating them
  by the tags pycrate's modules give (tens of thousands of records a second);
- "pycrate": pycrate decodes the whole record (`from_ber`), about ten times slower; a stricter
  check, and what the fast decoder is tested against.

What becomes of each record type:

| record | service | a_number | b_number | start | usage |
|---|---|---|---|---|---|
| pGWRecord | data | servedMSISDN | "" | recordOpeningTime | uplink + downlink bytes of listOfServiceData (else listOfTrafficVolumes); location: the country of servingNodePLMNIdentifier |
| moCallRecord | voice | servedMSISDN | calledNumber | answerTime, else seizureTime | callDuration if answered, else 0 |
| mtCallRecord | voice, direction "in" | servedMSISDN | callingNumber | as MOC | as MOC |
| moSMSRecord | sms | servedMSISDN | destinationNumber | originationTime | 1, or 0 when smsResult says it failed |
| mtSMSRecord | sms, direction "in" | servedMSISDN | "" | deliveryTime | as MO-SMS |

Other record types (location updates, SGW records, ...) are `Ignored`. Numbers with type of number
"national" get `country_code` (e.g. "45") in front when it is given. Zero bytes or 0xFF filler
between records (block-padded files) are skipped.

A TS 32.297 CDR file (a file header, then each CDR behind a CDR header) is detected by its first
octets (`container="auto"`, or "32.297" / "none" to say which): each CDR's BER body goes to the
same decoder, a CDR in another data record format (PER, XER) fails alone, and a file header whose
CDR count or file length differs from what was read adds one failure (the records are kept).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import BinaryIO

from pycrate_asn1dir import CDR
from stdnum import imsi
from stdnum.exceptions import ValidationError

from telora.rating.engine.records import Ignored, ParseFailure, UsageRecord, make_record

CS = CDR.CSChargingDataTypes
GPRS = CDR.GPRSChargingDataTypes
CHUNK = 1 << 20
UNKNOWN_COUNTRY = "ZZ"  # a network no table knows: rated in the data catch-all zone ("*")

USAGE_RECORDS = {  # CHOICE alternative -> the fields rating reads
    ("cs", "moCallRecord"): ("servedMSISDN", "calledNumber", "recordingEntity", "seizureTime", "answerTime",
                             "callDuration", "callReference", "sequenceNumber"),
    ("cs", "mtCallRecord"): ("servedMSISDN", "callingNumber", "recordingEntity", "seizureTime", "answerTime",
                             "callDuration", "callReference", "sequenceNumber"),
    ("cs", "moSMSRecord"): ("servedMSISDN", "destinationNumber", "recordingEntity", "originationTime",
                            "messageReference", "smsResult"),
    ("cs", "mtSMSRecord"): ("servedMSISDN", "recordingEntity", "deliveryTime", "smsResult"),
    ("gprs", "pGWRecord"): ("servedMSISDN", "recordOpeningTime", "chargingID", "nodeID", "recordSequenceNumber",
                            "localSequenceNumber", "servingNodePLMNIdentifier", "listOfServiceData",
                            "listOfTrafficVolumes"),
}
NESTED = {"listOfServiceData": ("datavolumeFBCUplink", "datavolumeFBCDownlink"),
          "listOfTrafficVolumes": ("dataVolumeGPRSUplink", "dataVolumeGPRSDownlink")}
KINDS = {"INTEGER": "int", "ENUMERATED": "int", "OCTET STRING": "octets", "IA5String": "text", "SEQUENCE OF": "list",
         "CHOICE": "present", "BOOLEAN": "int"}


def _spec(asn1, names) -> dict[int, tuple]:
    """tag -> (name, kind, nested spec) for the named components of a pycrate SET or SEQUENCE."""
    spec = {}
    for name in names:
        component = asn1._cont[name]
        number, cls, _mode = component._tag
        if cls != "CONTEXT-SPECIFIC":
            raise RuntimeError(f"{asn1._name}.{name}: expected a context-specific tag")
        nested = _spec(component._cont, NESTED[name]) if name in NESTED else None
        spec[number] = (name, KINDS[component.TYPE], nested)
    return spec


def _alternatives(choice, family: str) -> dict[int, tuple[str, str]]:
    return {component._tag[0]: (family, name) for name, component in choice._cont.items()}


CS_TAGS = _alternatives(CS.CSRecord, "cs")
GPRS_TAGS = _alternatives(GPRS.GPRSRecord, "gprs")
SPECS = {key: _spec((CS.CSRecord if key[0] == "cs" else GPRS.GPRSRecord)._cont[key[1]], names)
         for key, names in USAGE_RECORDS.items()}


# ---- BER framing ------------------------------------------------------------------------------

class BerError(ValueError):
    pass


def _header(buf, pos: int, end: int) -> tuple[int, bool, int, int, int]:
    """(class, constructed, tag number, content start, content end or -1 for indefinite length)."""
    if pos >= end:
        raise BerError("truncated tag")
    first = buf[pos]
    pos += 1
    number = first & 0x1F
    if number == 0x1F:
        number = 0
        while True:
            if pos >= end:
                raise BerError("truncated tag")
            byte = buf[pos]
            pos += 1
            number = (number << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
    if pos >= end:
        raise BerError("truncated length")
    length = buf[pos]
    pos += 1
    if length & 0x80:
        count = length & 0x7F
        if count == 0:
            if not first & 0x20:
                raise BerError("indefinite length on a primitive value")
            return first >> 6, True, number, pos, -1
        if count > 8 or pos + count > end:
            raise BerError("bad length")
        length = int.from_bytes(buf[pos:pos + count], "big")
        pos += count
    return first >> 6, bool(first & 0x20), number, pos, pos + length


def _element(buf, pos: int, end: int) -> tuple[int, bool, int, int, int, int]:
    """A whole element at pos: header, content span and where the next element begins."""
    cls, constructed, number, start, stop = _header(buf, pos, end)
    if stop == -1:  # indefinite length: the contents end with 00 00 after the last child
        child = start
        while True:
            if child + 1 >= end:
                raise BerError("missing end-of-contents")
            if buf[child] == 0 and buf[child + 1] == 0:
                return cls, constructed, number, start, child, child + 2
            child = _element(buf, child, end)[5]
    if stop > end:
        raise BerError("length runs past the end")
    return cls, constructed, number, start, stop, stop


def _fields(buf, start: int, end: int, spec: dict) -> dict:
    """The components `spec` names, decoded from a SET or SEQUENCE's content."""
    values = {}
    pos = start
    while pos < end:
        _cls, _constructed, number, content, stop, pos = _element(buf, pos, end)
        found = spec.get(number)
        if found is None:
            continue
        name, kind, nested = found
        if kind == "int":
            values[name] = int.from_bytes(buf[content:stop], "big", signed=True)
        elif kind == "octets":
            values[name] = bytes(buf[content:stop])
        elif kind == "text":
            values[name] = bytes(buf[content:stop]).decode("ascii", "replace")
        elif kind == "list":
            items = []
            item = content
            while item < stop:
                _c, _k, _n, item_start, item_stop, item = _element(buf, item, stop)
                items.append(_fields(buf, item_start, item_stop, nested))
            values[name] = items
        else:
            values[name] = True
    return values


def _pycrate_fields(family: str, data: bytes) -> tuple[str, dict]:
    choice = CS.CSRecord if family == "cs" else GPRS.GPRSRecord
    choice.from_ber(data)
    name, values = choice.get_val()
    return name, values


# ---- field meanings ---------------------------------------------------------------------------

TON_NATIONAL = 2


def _tbcd(octets: bytes) -> str:
    digits = []
    for byte in octets:
        for nibble in (byte & 0x0F, byte >> 4):
            if nibble == 0x0F:
                return "".join(digits)
            if nibble > 9:
                raise ValueError(f"bad digit 0x{nibble:X} in {octets.hex()}")
            digits.append(chr(48 + nibble))
    return "".join(digits)


def _with_country(digits: str, ton: int, country_code: str | None) -> str:
    if digits.startswith("00"):
        digits = digits[2:]
    if ton == TON_NATIONAL and country_code:
        digits = country_code + digits.lstrip("0")
    return digits


def address(octets: bytes | None, country_code: str | None = None) -> str:
    """An AddressString / BCD directory number (TS 29.002, TS 24.008): type of number and
    numbering plan in the first octet (an octet 3a follows when its extension bit is 0), then TBCD
    digits. '' for no number."""
    if not octets:
        return ""
    skip = 1 if octets[0] & 0x80 else 2
    return _with_country(_tbcd(octets[skip:]), (octets[0] >> 4) & 0x07, country_code)


def sms_address(octets: bytes | None, country_code: str | None = None) -> str:
    """A TS 23.040 address field: digit count, type of address, TBCD digits."""
    if not octets or len(octets) < 2:
        return ""
    ton = (octets[1] >> 4) & 0x07
    if ton == 5:
        raise ValueError("an alphanumeric address is not a phone number")
    return _with_country(_tbcd(octets[2:])[:octets[0]], ton, country_code)


def _bcd2(byte: int) -> int:
    high, low = byte >> 4, byte & 0x0F
    if high > 9 or low > 9:
        raise ValueError(f"bad BCD octet 0x{byte:02X}")
    return high * 10 + low


def timestamp(octets: bytes | None) -> dt.datetime:
    """TimeStamp (TS 32.298): BCD YYMMDDhhmmss, the sign '+' or '-' in ASCII, BCD hhmm offset from UTC."""
    if not octets or len(octets) != 9:
        raise ValueError(f"bad TimeStamp {octets.hex() if octets else 'missing'}")
    year, month, day, hour, minute, second = (_bcd2(b) for b in octets[:6])
    sign = {0x2B: 1, 0x2D: -1}.get(octets[6])
    if sign is None:
        raise ValueError(f"bad TimeStamp sign in {octets.hex()}")
    offset = dt.timedelta(hours=_bcd2(octets[7]), minutes=_bcd2(octets[8])) * sign
    return dt.datetime(2000 + year, month, day, hour, minute, second, tzinfo=dt.timezone(offset))


@lru_cache(maxsize=4096)
def plmn_country(octets: bytes | None) -> str:
    """The country of a PLMN-Id (MCC and MNC, TS 24.008) from python-stdnum's IMSI table, which
    knows the network when an MCC spans several countries (310: the USA, and Guam); '' when absent."""
    if not octets or len(octets) != 3:
        return ""
    digits = [octets[0] & 0x0F, octets[0] >> 4, octets[1] & 0x0F, octets[2] & 0x0F, octets[2] >> 4, octets[1] >> 4]
    if any(d > 9 for d in digits[:5]):
        return UNKNOWN_COUNTRY
    plmn = "".join(map(str, digits[:5])) + (str(digits[5]) if digits[5] <= 9 else "")
    try:
        country = imsi.info(plmn.ljust(15, "0")).get("cc", "")
    except ValidationError:
        country = ""
    return country.upper() if len(country) == 2 else UNKNOWN_COUNTRY


def _volume(values: dict) -> int:
    containers = values.get("listOfServiceData")
    if containers:
        return sum(c.get("datavolumeFBCUplink", 0) + c.get("datavolumeFBCDownlink", 0) for c in containers)
    return sum(c.get("dataVolumeGPRSUplink", 0) + c.get("dataVolumeGPRSDownlink", 0)
               for c in values.get("listOfTrafficVolumes") or ())


def _require(values: dict, name: str, record: str):
    value = values.get(name)
    if value is None:
        raise ValueError(f"{record} without {name}")
    return value


def _usage(name: str, values: dict, line: int, country_code: str | None) -> UsageRecord:
    served = address(_require(values, "servedMSISDN", name), country_code)
    if not served:
        raise ValueError(f"{name}: servedMSISDN has no digits")
    entity = address(values.get("recordingEntity"))
    if name == "pGWRecord":
        record_id = ":".join(str(values.get(key, "")) for key in
                             ("nodeID", "chargingID", "recordSequenceNumber", "localSequenceNumber"))
        return make_record(f"pgw:{record_id}", "data", served, "", timestamp(_require(values, "recordOpeningTime", name)),
                           0, _volume(values), 1, plmn_country(values.get("servingNodePLMNIdentifier")), None, "out",
                           line)
    if name in ("moCallRecord", "mtCallRecord"):
        answered = values.get("answerTime")
        start = timestamp(answered or _require(values, "seizureTime", name))
        duration = _require(values, "callDuration", name) if answered else 0
        reference = _require(values, "callReference", name).hex()
        record_id = f"{name[:2]}c:{entity}:{reference}:{values.get('sequenceNumber', '')}"
        if name == "moCallRecord":
            other = address(_require(values, "calledNumber", name), country_code)
            return make_record(record_id, "voice", served, other, start, duration, 0, 1, "", None, "out", line)
        other = address(values.get("callingNumber"), country_code)
        return make_record(record_id, "voice", served, other, start, duration, 0, 1, "", None, "in", line)
    quantity = 0 if values.get("smsResult") else 1
    if name == "moSMSRecord":
        sent = _require(values, "originationTime", name)
        other = sms_address(_require(values, "destinationNumber", name), country_code)
        record_id = f"mosms:{entity}:{served}:{sent.hex()}:{values.get('messageReference', b'').hex()}"
        return make_record(record_id, "sms", served, other, timestamp(sent), 0, 0, quantity, "", None, "out", line)
    delivered = _require(values, "deliveryTime", name)
    record_id = f"mtsms:{entity}:{served}:{delivered.hex()}"
    return make_record(record_id, "sms", served, "", timestamp(delivered), 0, 0, quantity, "", None, "in", line)


# ---- the parser -------------------------------------------------------------------------------

def _family(number: int, family: str) -> tuple[str, str] | None:
    if family == "cs":
        return CS_TAGS.get(number)
    if family == "gprs":
        return GPRS_TAGS.get(number)
    cs, gprs = CS_TAGS.get(number), GPRS_TAGS.get(number)
    for candidate in (cs, gprs):
        if candidate in SPECS:
            return candidate
    return cs or gprs


def _frames(stream: BinaryIO, buf: bytes = b"") -> Iterator[tuple]:
    """(offset in the file, buffer, element start, class, constructed, tag, content start, content
    end) per top-level element; a framing error yields (offset, reason, the bytes left) and ends.
    `buf` holds bytes already read from the stream's start."""
    pos = 0
    base = 0
    eof = False
    while True:
        while pos < len(buf) and buf[pos] in (0x00, 0xFF):
            pos += 1  # block padding between records
        if pos >= len(buf) and eof:
            return
        try:
            cls, constructed, number, start, stop, after = _element(buf, pos, len(buf))
        except BerError as exc:
            if eof:
                yield base + pos, str(exc), bytes(buf[pos:])
                return
            more = stream.read(CHUNK)
            eof = not more
            buf = buf[pos:] + more
            base += pos
            pos = 0
            continue
        yield base + pos, buf, pos, cls, constructed, number, start, stop
        pos = after


def _record(index: int, offset: int, buf, begin: int, cls: int, constructed: bool, number: int, start: int,
            stop: int, *, family: str, decoder: str, country_code: str | None):
    """The outcome of one top-level BER element: a usage record, Ignored, or a failure."""
    kind = _family(number, family) if cls == 2 and constructed else None
    if kind is None:
        return ParseFailure(index, f"offset {offset}: not a CS or GPRS record (tag class {cls}, number {number})",
                            bytes(buf[begin:stop]).hex())
    if kind not in SPECS:
        return Ignored(index, f"{kind[1]} is not usage")
    try:
        if decoder == "pycrate":
            name, values = _pycrate_fields(kind[0], bytes(buf[begin:stop]))
        else:
            name, values = kind[1], _fields(buf, start, stop, SPECS[kind])
        return _usage(name, values, index, country_code)
    except Exception as exc:  # whatever is wrong with one record fails that record only
        return ParseFailure(index, f"offset {offset}: {kind[1]}: {exc}", bytes(buf[begin:stop]).hex())


# ---- TS 32.297 CDR file container -------------------------------------------------------------

FILE_HEADER_MIN = 50  # octets up to the length of the CDR routeing filter (TS 32.297 6.1.1)
FILE_HEADER_MAX = 1 << 20
DATA_RECORD_FORMATS = {1: "BER", 2: "unaligned PER", 3: "aligned PER", 4: "XER"}
TS_NUMBERS = {0: "32.005", 1: "32.015", 2: "32.205", 3: "32.215", 4: "32.225", 5: "32.235", 6: "32.250",
              7: "32.251", 9: "32.260", 10: "32.270", 11: "32.271", 12: "32.272", 13: "32.273", 14: "32.275",
              15: "32.274", 16: "32.277", 17: "32.296", 18: "32.278", 19: "32.253", 20: "32.255", 21: "32.254",
              22: "32.256", 23: "28.201", 24: "28.202", 25: "32.257"}
TS_FAMILIES = {6: "cs", 7: "gprs"}  # TS 32.250: CS domain (MSC records); TS 32.251: PS domain (P-GW records)
RELEASES = {0: 99, 1: 4, 2: 5, 3: 6, 4: 7, 5: 8, 6: 9}  # release identifier 7: Rel-10 + the extension octet


@dataclass(frozen=True)
class FileHeader:
    """A TS 32.297 CDR file header (6.1.1). Timestamps are (month, day, hour, minute, offset
    minutes from UTC); `lost_cdrs` is the lost CDR indicator octet as written."""

    file_length: int
    header_length: int
    high_release: int
    high_version: int
    low_release: int
    low_version: int
    opened: tuple[int, int, int, int, int]
    appended: tuple[int, int, int, int, int]
    cdr_count: int
    sequence: int
    closure_reason: int
    node_address: str
    lost_cdrs: int
    routeing_filter: bytes = b""
    private_extension: bytes = b""


def _release(identifier: int, extension: int | None) -> int:
    return 10 + (extension or 0) if identifier == 7 else RELEASES[identifier]


def _header_timestamp(octets: bytes) -> tuple[int, int, int, int, int]:
    """Month (4 bits), day (5), hour (5), minute (6), sign (1 bit, 1 = ahead of UTC), hours (5)
    and minutes (6) of the offset from UTC."""
    value = int.from_bytes(octets, "big")
    month, day, hour, minute = value >> 28, (value >> 23) & 0x1F, (value >> 18) & 0x1F, (value >> 12) & 0x3F
    offset = ((value >> 6) & 0x1F) * 60 + (value & 0x3F)
    return month, day, hour, minute, offset if value & 0x800 else -offset


def _node_address(octets: bytes) -> str:
    """IP address of the node (20 octets): IPv4 in the last four octets (the rest 0x00 or 0xFF),
    IPv6 in the last sixteen."""
    import ipaddress

    if set(octets[:16]) <= {0x00, 0xFF} and (octets[:16] != bytes(16) or octets[16:] != bytes(4)):
        return str(ipaddress.IPv4Address(octets[16:]))
    return str(ipaddress.IPv6Address(octets[4:]))


def read_file_header(data: bytes) -> FileHeader:
    """The file header at the start of `data` (at least its header length)."""
    if len(data) < FILE_HEADER_MIN:
        raise BerError(f"file header: {len(data)} octets, at least {FILE_HEADER_MIN} expected")
    file_length, header_length = int.from_bytes(data[0:4], "big"), int.from_bytes(data[4:8], "big")
    if header_length < FILE_HEADER_MIN or header_length > len(data):
        raise BerError(f"file header: header length {header_length} out of range")
    high, low = data[8], data[9]
    fields = dict(
        file_length=file_length, header_length=header_length, high_version=high & 0x1F, low_version=low & 0x1F,
        opened=_header_timestamp(data[10:14]), appended=_header_timestamp(data[14:18]),
        cdr_count=int.from_bytes(data[18:22], "big"), sequence=int.from_bytes(data[22:26], "big"),
        closure_reason=data[26], node_address=_node_address(data[27:47]), lost_cdrs=data[47])
    pos = 50
    filter_length = int.from_bytes(data[48:50], "big")
    fields["routeing_filter"] = bytes(data[pos:pos + filter_length])
    pos += filter_length
    if pos + 2 <= header_length:
        private_length = int.from_bytes(data[pos:pos + 2], "big")
        fields["private_extension"] = bytes(data[pos + 2:pos + 2 + private_length])
        pos += 2 + private_length
    if pos > header_length:
        raise BerError("file header: the routeing filter or private extension runs past the header length")
    high_ext = low_ext = None
    if high >> 5 == 7 and pos < header_length:
        high_ext, pos = data[pos], pos + 1
    if low >> 5 == 7 and pos < header_length:
        low_ext = data[pos]
    fields.update(high_release=_release(high >> 5, high_ext), low_release=_release(low >> 5, low_ext))
    return FileHeader(**fields)


def is_container(head: bytes) -> bool:
    """Whether a file starting with `head` (8 octets or more) is a TS 32.297 CDR file: a bare BER
    file starts with a record's context-specific constructed tag (0xA0-0xBF) or padding, a CDR
    file with its length (not 0) and a plausible header length."""
    if len(head) < 8 or 0xA0 <= head[0] <= 0xBF:
        return False
    file_length, header_length = int.from_bytes(head[0:4], "big"), int.from_bytes(head[4:8], "big")
    return FILE_HEADER_MIN <= header_length <= FILE_HEADER_MAX and file_length >= header_length


def _read(stream: BinaryIO, size: int) -> bytes:
    data = b""
    while len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            break
        data += more
    return data


def _container(stream: BinaryIO, head: bytes, *, family: str, decoder: str,
               country_code: str | None) -> Iterator[UsageRecord | ParseFailure | Ignored]:
    """The CDRs of a TS 32.297 file: the file header, then per CDR a CDR header (6.1.2: CDR length
    in 2 octets, release and version identifier, data record format and TS number, the release
    extension octet when the release identifier is 7) and the CDR itself."""
    header_length = int.from_bytes(head[4:8], "big")
    data = head + _read(stream, header_length - len(head))
    try:
        header = read_file_header(data)
    except BerError as exc:
        yield ParseFailure(1, f"offset 0: {exc}", data.hex())
        return
    offset, index = header.header_length, 0
    while True:
        cdr_header = _read(stream, 4)
        if not cdr_header:
            break
        if len(cdr_header) < 4 or set(cdr_header) <= {0x00} or set(cdr_header) <= {0xFF}:
            rest = cdr_header + stream.read()
            if set(rest) <= {0x00} or set(rest) <= {0xFF}:
                offset += len(rest)  # padding at the end of the file
                break
            yield ParseFailure(index + 1, f"offset {offset}: not a CDR header; {len(rest)} bytes not read", rest.hex())
            return
        length, release_id, fmt, ts = (int.from_bytes(cdr_header[:2], "big"), cdr_header[2] >> 5,
                                       cdr_header[3] >> 5, cdr_header[3] & 0x1F)
        size = 4
        if release_id == 7:
            cdr_header += _read(stream, 1)
            size = 5
        body = _read(stream, length)
        index += 1
        where = f"offset {offset}: CDR {index}"
        if len(cdr_header) < size or len(body) < length:
            yield ParseFailure(index, f"{where}: {length} octets announced, the file ends after {len(body)}",
                               (cdr_header + body).hex())
            offset += len(cdr_header) + len(body)
            break
        start = offset + size
        offset = start + length
        if fmt != 1:
            name = DATA_RECORD_FORMATS.get(fmt, f"unknown ({fmt})")
            yield ParseFailure(index, f"{where}: data record format {fmt} is {name}; only BER (1) is read",
                               body.hex())
            continue
        kind = TS_FAMILIES.get(ts, "auto") if family == "auto" else family
        try:
            cls, constructed, number, content, stop, after = _element(body, 0, len(body))
        except BerError as exc:
            yield ParseFailure(index, f"{where}: {exc}", body.hex())
            continue
        if not set(body[after:]) <= {0x00, 0xFF}:
            yield ParseFailure(index, f"{where}: {len(body) - after} octets after the record", body.hex())
            continue
        yield _record(index, start, body, 0, cls, constructed, number, content, stop, family=kind, decoder=decoder,
                      country_code=country_code)
    if header.cdr_count != index:
        yield ParseFailure(index + 1, f"file header: {header.cdr_count} CDRs announced, {index} read",
                           record_id=f"file-header:{header.sequence}")
    if header.file_length and header.file_length != offset:
        yield ParseFailure(index + 1, f"file header: file length {header.file_length} octets, {offset} read",
                           record_id=f"file-length:{header.sequence}")


def parse(stream: BinaryIO, *, country_code: str | None = None, decoder: str = "fast", family: str = "auto",
          container: str = "auto", **_options) -> Iterator[UsageRecord | ParseFailure | Ignored]:
    """Records from a binary stream of TS 32.298 BER records, bare or in a TS 32.297 CDR file
    (`container` "auto" looks at the first octets, "32.297" or "none" say which). `line` is the
    record's number in the file (1, 2, ...); a failure's text is the record's bytes in hex with
    its offset."""
    if decoder not in ("fast", "pycrate"):
        raise ValueError(f"unknown decoder {decoder!r}: fast or pycrate")
    if container not in ("auto", "none", "32.297"):
        raise ValueError(f"unknown container {container!r}: auto, none or 32.297")
    head = _read(stream, 8)
    if container == "32.297" or (container == "auto" and is_container(head)):
        if len(head) < 8:
            yield ParseFailure(1, f"offset 0: file header: {len(head)} octets, at least {FILE_HEADER_MIN} expected",
                               head.hex())
            return
        yield from _container(stream, head, family=family, decoder=decoder, country_code=country_code)
        return
    index = 0
    for frame in _frames(stream, head):
        index += 1
        if len(frame) == 3:
            offset, reason, rest = frame
            yield ParseFailure(index, f"offset {offset}: {reason}; {len(rest)} bytes not read", rest.hex())
            return
        yield _record(index, *frame, family=family, decoder=decoder, country_code=country_code)
