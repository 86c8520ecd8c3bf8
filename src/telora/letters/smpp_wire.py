"""The few SMPP 3.4 PDUs of the sending hot path, packed and parsed with `struct` (no Django).

smpplib builds and parses a PDU through generic field tables: about 125 µs to make a submit_sm and
170 µs to read a delivery receipt on this machine, more than the rest of sending an SMS. The sending
job binds, unbinds and listens with smpplib as before; for the submissions of a batch and the answers
that come back meanwhile (submit_sm_resp, generic_nack, deliver_sm receipts, enquire_link) it uses
these functions on the same socket, and the SMSC simulator parses submissions with them too.
"""

from __future__ import annotations

import struct

SUBMIT_SM, SUBMIT_SM_RESP, DELIVER_SM, DELIVER_SM_RESP = 0x00000004, 0x80000004, 0x00000005, 0x80000005
ENQUIRE_LINK, ENQUIRE_LINK_RESP, GENERIC_NACK = 0x00000015, 0x80000015, 0x80000000
HEADER = struct.Struct(">IIII")


def pdu(command: int, status: int, sequence: int, body: bytes = b"") -> bytes:
    return HEADER.pack(16 + len(body), command, status, sequence) + body


def submit_sm(sequence: int, *, source: str, source_ton: int, source_npi: int, destination: str, dest_ton: int,
              dest_npi: int, esm_class: int, registered_delivery: int, data_coding: int, short_message: bytes) -> bytes:
    """One submit_sm (no optional parameters): the fields smpplib's submit_sm would write for the same
    arguments (service_type, schedule and validity empty, protocol_id and priority 0)."""
    body = b"".join((b"\0", bytes((source_ton, source_npi)), source.encode("latin-1"), b"\0",
                     bytes((dest_ton, dest_npi)), destination.encode("latin-1"), b"\0",
                     bytes((esm_class, 0, 0)), b"\0\0", bytes((registered_delivery, 0, data_coding, 0,
                                                               len(short_message))), short_message))
    return pdu(SUBMIT_SM, 0, sequence, body)


def cstring(data: bytes, offset: int) -> tuple[str, int]:
    end = data.index(b"\0", offset)
    return data[offset:end].decode("latin-1"), end + 1


def parse_sm(body: bytes) -> dict:
    """The mandatory fields of a submit_sm or deliver_sm body (the same layout in SMPP 3.4)."""
    _service, offset = cstring(body, 0)
    source_ton, source_npi = body[offset], body[offset + 1]
    source, offset = cstring(body, offset + 2)
    dest_ton, dest_npi = body[offset], body[offset + 1]
    destination, offset = cstring(body, offset + 2)
    esm_class = body[offset]
    _schedule, offset = cstring(body, offset + 3)
    _validity, offset = cstring(body, offset)
    registered, data_coding, length = body[offset], body[offset + 2], body[offset + 4]
    return {"source": source, "source_ton": source_ton, "source_npi": source_npi, "destination": destination,
            "dest_ton": dest_ton, "dest_npi": dest_npi, "esm_class": esm_class, "registered_delivery": registered,
            "data_coding": data_coding, "short_message": body[offset + 5:offset + 5 + length]}


def split(buffer: bytearray, max_pdu: int = 65_536) -> list[tuple[int, int, int, bytes]]:
    """The complete PDUs at the start of `buffer` as (command, status, sequence, body), removed from
    it; a partial PDU stays for the next read. ValueError on a length no PDU can have."""
    out, offset, size = [], 0, len(buffer)
    while size - offset >= 16:
        length, command, status, sequence = HEADER.unpack_from(buffer, offset)
        if length < 16 or length > max_pdu:
            raise ValueError(f"SMPP PDU length {length}")
        if size - offset < length:
            break
        out.append((command, status, sequence, bytes(buffer[offset + 16:offset + length])))
        offset += length
    del buffer[:offset]
    return out
