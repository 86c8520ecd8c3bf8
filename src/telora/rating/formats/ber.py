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
between records (block-padded files) are skipped. The TS 32.297 file container (file and CDR
headers) is not read yet: give the records alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
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


def _frames(stream: BinaryIO) -> Iterator[tuple]:
    """(offset in the file, buffer, element start, class, constructed, tag, content start, content
    end) per top-level element; a framing error yields (offset, reason, the bytes left) and ends."""
    buf = b""
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


def parse(stream: BinaryIO, *, country_code: str | None = None, decoder: str = "fast", family: str = "auto",
          **_options) -> Iterator[UsageRecord | ParseFailure | Ignored]:
    """Records from a binary stream of TS 32.298 BER records. `line` is the record's number in the
    file (1, 2, ...); a failure's text is the record's bytes in hex with its offset."""
    if decoder not in ("fast", "pycrate"):
        raise ValueError(f"unknown decoder {decoder!r}: fast or pycrate")
    index = 0
    for frame in _frames(stream):
        index += 1
        if len(frame) == 3:
            offset, reason, rest = frame
            yield ParseFailure(index, f"offset {offset}: {reason}; {len(rest)} bytes not read", rest.hex())
            return
        offset, buf, begin, cls, constructed, number, start, stop = frame
        kind = _family(number, family) if cls == 2 and constructed else None
        if kind is None:
            yield ParseFailure(index, f"offset {offset}: not a CS or GPRS record (tag class {cls}, number {number})",
                               bytes(buf[begin:stop]).hex())
            continue
        if kind not in SPECS:
            yield Ignored(index, f"{kind[1]} is not usage")
            continue
        try:
            if decoder == "pycrate":
                name, values = _pycrate_fields(kind[0], bytes(buf[begin:stop]))
            else:
                name, values = kind[1], _fields(buf, start, stop, SPECS[kind])
            record = _usage(name, values, index, country_code)
        except Exception as exc:  # whatever is wrong with one record fails that record only
            yield ParseFailure(index, f"offset {offset}: {kind[1]}: {exc}", bytes(buf[begin:stop]).hex())
            continue
        yield record
