"""An SMS centre that speaks SMPP 3.4 over TCP, for tests and the demo (`telora smsc-simulator`).

It answers bind_transmitter / bind_receiver / bind_transceiver (any system_id, the password
configured), submit_sm with submit_sm_resp (a message id), enquire_link and unbind; after each
accepted message it sends a delivery receipt as deliver_sm (esm_class 0x04, "id:... stat:DELIVRD")
to a bound receiver or transceiver of the same system_id, kept until one binds. Faults are
configurable: destinations refused at submit (ESME_RINVDSTADR), destinations whose receipt says
UNDELIV, every n-th submit throttled (ESME_RTHROTTLED), and a password that must match. Everything
it accepted is kept in `messages` (decoded text, parts joined) for a test to read.

No Django here: it runs as its own process (`python -m telora.letters.smsc_simulator --port 2775`)
or in a thread of a test (`SmscSimulator().start_in_thread()`).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import struct
import threading
from dataclasses import dataclass, field

from telora.letters import smpp_wire
from telora.letters.engine import gsm7_decode

BIND = {0x00000001: "receiver", 0x00000002: "transmitter", 0x00000009: "transceiver"}
SUBMIT_SM, DELIVER_SM, UNBIND, ENQUIRE_LINK, GENERIC_NACK = 0x00000004, 0x00000005, 0x00000006, 0x00000015, 0x80000000
RESP = 0x80000000
ESME_ROK, ESME_RINVCMDID, ESME_RBINDFAIL, ESME_RINVDSTADR, ESME_RTHROTTLED, ESME_RINVBNDSTS = 0, 3, 0x0D, 0x0B, 0x58, 4
MAX_PDU = 65_536


@dataclass
class Faults:
    refuse_prefixes: tuple[str, ...] = ()  # destination numbers refused at submit (ESME_RINVDSTADR)
    undeliverable_prefixes: tuple[str, ...] = ()  # accepted, but the receipt says UNDELIV
    throttle_every: int = 0  # every n-th submit_sm answered ESME_RTHROTTLED (0: never)
    password: str | None = None  # a bind with another password fails (ESME_RBINDFAIL)
    receipts: bool = True


@dataclass
class Accepted:
    message_id: str
    system_id: str
    source: str
    destination: str
    data_coding: int
    parts: list = field(default_factory=list)  # raw short_message payloads

    @property
    def text(self) -> str:
        body = b"".join(p[p[0] + 1:] if self.udh else p for p in self.parts)
        return body.decode("utf-16-be") if self.data_coding == 8 else gsm7_decode(body)

    udh: bool = False


def _cstring(data: bytes, offset: int) -> tuple[str, int]:
    end = data.index(b"\0", offset)
    return data[offset:end].decode("latin-1"), end + 1


_pdu = smpp_wire.pdu


class SmscSimulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None):
        self.host, self.port = host, port
        self.faults = faults or Faults()
        self.messages: list[Accepted] = []
        self._ids = itertools.count(1)
        self._submits = 0
        self._concatenated: dict[tuple, Accepted] = {}
        self._pending: dict[str, list[bytes]] = {}  # system_id -> receipts waiting for a receiver
        self._receivers: dict[str, list] = {}
        self._unacked: dict[object, dict[int, bytes]] = {}  # session -> receipts sent, not yet answered
        self._sequence = itertools.count(1)
        self._server = None
        self._loop = None
        self._thread = None

    # -- running ---------------------------------------------------------------------------------
    async def start(self) -> int:
        self._server = await asyncio.start_server(self._session, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def serve_forever(self) -> None:
        await self.start()
        async with self._server:
            await self._server.serve_forever()

    def start_in_thread(self) -> int:
        """Run on an event loop in a daemon thread; returns the port (stop() ends it)."""
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run():
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self.start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="smsc-simulator", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self.port

    def stop(self) -> None:
        if self._loop is None:
            return

        async def close():
            self._server.close()
            for writers in self._receivers.values():
                for writer in writers:
                    writer.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop = None

    # -- one ESME's session ----------------------------------------------------------------------
    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Reads whatever has arrived, answers every complete PDU in it, then waits for the socket
        once (a pipelining ESME sends hundreds of submissions per read)."""
        state = {"bound": None, "system_id": ""}
        buffer = bytearray()
        try:
            while True:
                data = await reader.read(262_144)
                if not data:
                    break
                buffer += data
                try:
                    pdus = smpp_wire.split(buffer, MAX_PDU)
                except ValueError:
                    writer.write(_pdu(GENERIC_NACK, 2, 0))  # ESME_RINVCMDLEN
                    break
                stop = False
                for command, _status, sequence, body in pdus:
                    if self._answer(writer, state, command, sequence, body):
                        stop = True
                        break
                await writer.drain()
                if stop:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            for writers in self._receivers.values():
                if writer in writers:
                    writers.remove(writer)
            # receipts the ESME never acknowledged are delivered again on its next bind
            for receipt in self._unacked.pop(writer, {}).values():
                self._deliver(state["system_id"], receipt)
            writer.close()

    def _answer(self, writer, state: dict, command: int, sequence: int, body: bytes) -> bool:
        """Answer one PDU; True when the session ends (unbind)."""
        if command in BIND:
            system_id, offset = _cstring(body, 0)
            password, _ = _cstring(body, offset)
            if self.faults.password is not None and password != self.faults.password:
                writer.write(_pdu(command | RESP, ESME_RBINDFAIL, sequence, b"telora-smsc\0"))
                return False
            state["bound"], state["system_id"] = BIND[command], system_id
            writer.write(_pdu(command | RESP, ESME_ROK, sequence, b"telora-smsc\0"))
            if state["bound"] in ("receiver", "transceiver"):
                self._receivers.setdefault(system_id, []).append(writer)
                for receipt in self._pending.pop(system_id, []):
                    self._send_receipt(writer, receipt)
        elif command == SUBMIT_SM:
            if state["bound"] not in ("transmitter", "transceiver"):
                writer.write(_pdu(command | RESP, ESME_RINVBNDSTS, sequence, b"\0"))
            else:
                status, message_id, receipt = self._submit(state["system_id"], body)
                writer.write(_pdu(command | RESP, status, sequence, message_id.encode() + b"\0"))
                if receipt is not None:
                    self._deliver(state["system_id"], receipt)
        elif command == ENQUIRE_LINK:
            writer.write(_pdu(command | RESP, ESME_ROK, sequence))
        elif command == UNBIND:
            writer.write(_pdu(command | RESP, ESME_ROK, sequence))
            return True
        elif command == DELIVER_SM | RESP:
            self._unacked.get(writer, {}).pop(sequence, None)
        elif command & RESP:
            pass  # enquire_link_resp
        else:
            writer.write(_pdu(GENERIC_NACK, ESME_RINVCMDID, sequence))
        return False

    def _send_receipt(self, writer, receipt: bytes) -> None:
        sequence = struct.unpack(">I", receipt[12:16])[0]
        self._unacked.setdefault(writer, {})[sequence] = receipt
        writer.write(receipt)

    def _deliver(self, system_id: str, receipt: bytes) -> None:
        receivers = self._receivers.get(system_id) or []
        if receivers:
            self._send_receipt(receivers[0], receipt)
        else:
            self._pending.setdefault(system_id, []).append(receipt)

    def _submit(self, system_id: str, body: bytes) -> tuple[int, str, bytes | None]:
        fields = smpp_wire.parse_sm(body)
        source, destination, esm_class = fields["source"], fields["destination"], fields["esm_class"]
        registered, data_coding, message = fields["registered_delivery"], fields["data_coding"], fields["short_message"]
        self._submits += 1
        if self.faults.throttle_every and self._submits % self.faults.throttle_every == 0:
            return ESME_RTHROTTLED, "", None
        if destination.startswith(self.faults.refuse_prefixes):
            return ESME_RINVDSTADR, "", None
        message_id = f"{next(self._ids):010x}"
        udh = bool(esm_class & 0x40)
        if udh and len(message) > 5 and message[1] == 0:
            key = (system_id, destination, message[3])
            total, number = message[4], message[5]
            accepted = self._concatenated.setdefault(key, Accepted(message_id, system_id, source, destination,
                                                                   data_coding, udh=True))
            accepted.parts.append(message)
            if number == total:
                accepted.parts.sort(key=lambda p: p[5])
                self.messages.append(self._concatenated.pop(key))
        else:
            self.messages.append(Accepted(message_id, system_id, source, destination, data_coding, [message]))
        receipt = None
        if self.faults.receipts and registered & 0x01:
            undelivered = bool(self.faults.undeliverable_prefixes) and destination.startswith(
                self.faults.undeliverable_prefixes)
            receipt = self._receipt(message_id, source, destination, "UNDELIV" if undelivered else "DELIVRD",
                                    "001" if undelivered else "000")
        return ESME_ROK, message_id, receipt

    def _receipt(self, message_id: str, source: str, destination: str, stat: str, err: str) -> bytes:
        now = dt.datetime.now(dt.UTC).strftime("%y%m%d%H%M")
        text = (f"id:{message_id} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'} submit date:{now} "
                f"done date:{now} stat:{stat} err:{err} text:").encode()
        body = (b"\0" + bytes((1, 1)) + destination.encode() + b"\0" + bytes((1, 1)) + source.encode() + b"\0"
                + bytes((0x04, 0, 0)) + b"\0\0" + bytes((0, 0, 0, 0)) + bytes((len(text),)) + text)
        return _pdu(DELIVER_SM, ESME_ROK, next(self._sequence), body)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="telora smsc-simulator", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2775)
    parser.add_argument("--password", default=None, help="binds must give this password")
    parser.add_argument("--refuse", action="append", default=[], metavar="PREFIX",
                        help="refuse submits to numbers starting with PREFIX (repeatable)")
    parser.add_argument("--undeliverable", action="append", default=[], metavar="PREFIX",
                        help="accept, but report UNDELIV for numbers starting with PREFIX")
    parser.add_argument("--throttle-every", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    simulator = SmscSimulator(args.host, args.port, Faults(
        refuse_prefixes=tuple(args.refuse), undeliverable_prefixes=tuple(args.undeliverable),
        throttle_every=args.throttle_every, password=args.password))

    async def serve():
        port = await simulator.start()
        print(f"SMSC simulator listening on {args.host}:{port} (SMPP 3.4); Ctrl-C ends it", flush=True)
        async with simulator._server:
            await simulator._server.serve_forever()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
