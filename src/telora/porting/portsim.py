"""A national number-porting clearing house, simulated, for tests and the demo
(`telora portsim --port 8791 --dir var/portsim`).

Modelled on central clearing houses (the Danish OCH, the UK's porting hub): the recipient operator
submits a port request, the clearing house forwards it to the donor, the donor accepts or rejects with
a reason code within a deadline, the clearing house confirms the porting window and broadcasts the
completion. Here the simulator also plays the other operators: the donor of a port-in (its behaviour
per number pattern: accept, reject with a code, or no answer, so the recipient's deadline expires) and
the recipient of a port-out (an admin call makes it ask Telora for a number).

    POST /v1/ports                     Authorization: Bearer <key>, Idempotency-Key: <key>
         {"idempotency_key", "type": "port_in", "number", "donor", "recipient", "authorisation": {...},
          "requested_date": "YYYY-MM-DD", "callback_url"}
      -> 202 {"status": "submitted", "correlation_id": "PX-…"}      the donor's answer comes as a callback
      -> 422 {"status": "rejected", "error": {"code", "message"}}  refused by the clearing house itself
    POST /v1/ports/<id>/answer   {"status": "accepted"|"rejected", "code", "message"}   (Telora as donor)
    POST /v1/ports/<id>/cancel   -> 200, or 409 WINDOW_PASSED / ALREADY_COMPLETED
    POST /v1/ports/<id>/complete -> 200 and a `port_completed` broadcast to the port's callback
    POST /admin/rules  {"rules": [{"pattern": "^4520", "behaviour": "accept"|"reject"|"silent", "code"}]}
    POST /admin/port_out {"number", "recipient", "donor", "authorisation": {...}, "requested_date",
                          "callback_url"?}     the simulated recipient asks Telora (the donor) for a number
    GET  /admin/ports                          every port with its state and messages

Callbacks are POSTed to the port's callback URL, signed: X-Portsim-Timestamp (Unix seconds) and
X-Portsim-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>, and tried again a few
times when they do not get a 2xx. Events: `port_answer` {correlation_id, idempotency_key, status, code,
message, window_start}, `port_out_request` {correlation_id, number, donor, recipient, authorisation,
requested_date, window_start}, `port_completed`, `port_cancelled`.

The porting window is the requested date at `--window-time` (UTC); a request repeated with the same
idempotency key gets the first answer and changes nothing. Standard library only, its own SQLite
database under `--dir`.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import re
import sqlite3
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SCHEMA = """
create table if not exists ports (correlation_id text primary key, idempotency_key text unique, type text,
    number text, donor text, recipient text, requested_date text, window_start text, state text,
    callback_url text, code text default '', log text default '[]', created_at real);
"""
NUMBER = re.compile(r"^[1-9][0-9]{6,14}$")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


class ClearingHouse:
    def __init__(self, folder: Path, *, api_key: str, secret: str, latency: float, window_time: str,
                 callback_url: str = ""):
        folder.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(folder / "portsim.sqlite3"), check_same_thread=False, isolation_level=None)
        self.db.executescript("pragma journal_mode = wal; pragma synchronous = normal;" + SCHEMA)
        self.lock = threading.Lock()
        self.api_key, self.secret, self.latency = api_key, secret, latency
        self.window_time, self.callback_url = window_time, callback_url
        self.rules: list[dict] = []
        self.callbacks_sent = 0

    # --- the store -----------------------------------------------------------------------------------
    def port(self, correlation: str) -> dict | None:
        row = self.db.execute("select correlation_id, idempotency_key, type, number, donor, recipient, requested_date, "
                              "window_start, state, callback_url, code, log from ports where correlation_id = ?",
                              (correlation,)).fetchone()
        if row is None:
            return None
        keys = ("correlation_id", "idempotency_key", "type", "number", "donor", "recipient", "requested_date",
                "window_start", "state", "callback_url", "code", "log")
        port = dict(zip(keys, row, strict=True))
        port["log"] = json.loads(port["log"])
        return port

    def by_key(self, key: str) -> dict | None:
        row = self.db.execute("select correlation_id from ports where idempotency_key = ?", (key,)).fetchone()
        return self.port(row[0]) if row else None

    def ports(self) -> list[dict]:
        return [self.port(c) for (c,) in self.db.execute("select correlation_id from ports order by created_at")]

    def _insert(self, port: dict) -> None:
        self.db.execute("insert into ports values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (port["correlation_id"], port["idempotency_key"], port["type"], port["number"], port["donor"],
                         port["recipient"], port["requested_date"], port["window_start"], port["state"],
                         port["callback_url"], port.get("code", ""), json.dumps(port.get("log", [])), time.time()))

    def _update(self, correlation: str, *, state: str, code: str = "", note: str = "") -> None:
        port = self.port(correlation)
        log = [*port["log"], {"at": time.time(), "state": state, "code": code, "note": note}]
        self.db.execute("update ports set state = ?, code = ?, log = ? where correlation_id = ?",
                        (state, code, json.dumps(log), correlation))

    def window(self, requested_date: str) -> str:
        return f"{requested_date}T{self.window_time}:00+00:00"

    def behaviour(self, number: str) -> dict:
        for rule in self.rules:
            if re.search(str(rule.get("pattern", "")), number):
                return rule
        return {"behaviour": "accept"}

    # --- the protocol --------------------------------------------------------------------------------
    def submit(self, body: dict) -> tuple[int, dict, list[dict]]:
        key = str(body.get("idempotency_key") or "")
        number, donor = str(body.get("number") or ""), str(body.get("donor") or "")
        requested = str(body.get("requested_date") or "")
        if not key or body.get("type") != "port_in":
            return 400, {"status": "invalid", "error": {"code": "BAD_REQUEST",
                                                        "message": "idempotency_key and type port_in"}}, []
        with self.lock:
            taken = self.by_key(key)
            if taken is not None:  # the same request again: the same answer, nothing new
                return 202, {"status": "submitted", "correlation_id": taken["correlation_id"]}, []
            if not NUMBER.match(number):
                return 422, {"status": "rejected", "error": {"code": "INVALID_NUMBER",
                                                             "message": f"{number!r} is not an E.164 number"}}, []
            if not donor or donor == body.get("recipient"):
                return 422, {"status": "rejected", "error": {"code": "INVALID_DONOR",
                                                             "message": "the donor must be another operator"}}, []
            if not re.match(r"^\d{4}-\d{2}-\d{2}$", requested):
                return 422, {"status": "rejected", "error": {"code": "INVALID_DATE",
                                                             "message": "requested_date: YYYY-MM-DD"}}, []
            busy = self.db.execute("select 1 from ports where number = ? and state in ('submitted', 'accepted')",
                                   (number,)).fetchone()
            if busy:
                return 422, {"status": "rejected", "error": {"code": "PORT_IN_PROGRESS",
                                                             "message": f"{number} has a port in progress"}}, []
            correlation = "PX-" + uuid.uuid4().hex[:12]
            port = {"correlation_id": correlation, "idempotency_key": key, "type": "port_in", "number": number,
                    "donor": donor, "recipient": str(body.get("recipient") or ""), "requested_date": requested,
                    "window_start": self.window(requested), "state": "submitted",
                    "callback_url": str(body.get("callback_url") or self.callback_url),
                    "log": [{"at": time.time(), "state": "submitted"}]}
            self._insert(port)
            rule = self.behaviour(number)
            callbacks = []
            if rule.get("behaviour") == "reject":
                self._update(correlation, state="rejected", code=str(rule.get("code") or "AUTH_MISMATCH"))
                callbacks.append(self._event(port, "port_answer", status="rejected",
                                             code=str(rule.get("code") or "AUTH_MISMATCH"),
                                             message=str(rule.get("message") or "refused by the donor")))
            elif rule.get("behaviour") != "silent":  # silent: the donor never answers; the deadline runs out
                self._update(correlation, state="accepted")
                callbacks.append(self._event(port, "port_answer", status="accepted"))
        return 202, {"status": "submitted", "correlation_id": correlation}, callbacks

    def _event(self, port: dict, event: str, **values) -> dict:
        return {"event": event, "correlation_id": port["correlation_id"], "idempotency_key": port["idempotency_key"],
                "number": port["number"], "donor": port["donor"], "recipient": port["recipient"],
                "requested_date": port["requested_date"], "window_start": port["window_start"], "status": "",
                "code": "", "message": "", "callback_url": port["callback_url"], **values}

    def act(self, correlation: str, action: str, body: dict) -> tuple[int, dict, list[dict]]:
        with self.lock:
            port = self.port(correlation)
            if port is None:
                return 404, {"status": "unknown", "error": {"code": "UNKNOWN_PORT", "message": correlation}}, []
            key = str(body.get("idempotency_key") or "")
            if key and any(e.get("key") == key for e in port["log"]):
                return 200, {"status": port["state"], "correlation_id": correlation}, []  # a repeat
            if action == "answer":
                if port["type"] != "port_out" or port["state"] != "submitted":
                    return 409, {"status": port["state"], "error": {"code": "NOT_WAITING",
                                                                    "message": f"the port is {port['state']}"}}, []
                state = "accepted" if body.get("status") == "accepted" else "rejected"
                self._note(correlation, state, str(body.get("code") or ""), key, action)
                return 200, {"status": state, "correlation_id": correlation, "window_start": port["window_start"]}, []
            if action == "cancel":
                if port["state"] in ("completed", "cancelled", "rejected"):
                    code = "ALREADY_COMPLETED" if port["state"] == "completed" else "NOT_OPEN"
                    return 409, {"status": port["state"], "error": {"code": code,
                                                                    "message": f"the port is {port['state']}"}}, []
                self._note(correlation, "cancelled", str(body.get("code") or ""), key, action)
                return 200, {"status": "cancelled", "correlation_id": correlation}, [
                    self._event(port, "port_cancelled", status="cancelled")]
            if action == "complete":
                if port["state"] != "accepted":
                    return 409, {"status": port["state"], "error": {"code": "NOT_ACCEPTED",
                                                                    "message": f"the port is {port['state']}"}}, []
                self._note(correlation, "completed", "", key, action)
                return 200, {"status": "completed", "correlation_id": correlation}, [
                    self._event(port, "port_completed", status="completed")]
        return 404, {"error": {"code": "UNKNOWN_ACTION", "message": action}}, []

    def _note(self, correlation, state, code, key, action) -> None:
        port = self.port(correlation)
        log = [*port["log"], {"at": time.time(), "state": state, "code": code, "key": key, "action": action}]
        self.db.execute("update ports set state = ?, code = ?, log = ? where correlation_id = ?",
                        (state, code, json.dumps(log), correlation))

    def port_out(self, body: dict) -> tuple[int, dict, list[dict]]:
        """The simulated recipient asks the donor (Telora) to let a number go."""
        number, requested = str(body.get("number") or ""), str(body.get("requested_date") or "")
        if not NUMBER.match(number) or not re.match(r"^\d{4}-\d{2}-\d{2}$", requested):
            return 400, {"error": {"code": "BAD_REQUEST", "message": "number (E.164 digits) and requested_date"}}, []
        with self.lock:
            correlation = "PX-" + uuid.uuid4().hex[:12]
            port = {"correlation_id": correlation, "idempotency_key": "out-" + correlation, "type": "port_out",
                    "number": number, "donor": str(body.get("donor") or ""),
                    "recipient": str(body.get("recipient") or "SIMRCP"), "requested_date": requested,
                    "window_start": self.window(requested), "state": "submitted",
                    "callback_url": str(body.get("callback_url") or self.callback_url),
                    "log": [{"at": time.time(), "state": "submitted"}]}
            self._insert(port)
        auth = body.get("authorisation") if isinstance(body.get("authorisation"), dict) else {}
        return 202, {"status": "submitted", "correlation_id": correlation}, [
            self._event(port, "port_out_request", authorisation=auth)]

    def send_callbacks(self, callbacks: list[dict]) -> None:
        time.sleep(self.latency)
        for callback in callbacks:
            url = callback.pop("callback_url", "")
            if not url:
                continue
            body = json.dumps(callback).encode()
            for _ in range(20):  # a callback that does not get a 2xx is tried again a few times
                stamp = int(time.time())
                request = urllib.request.Request(url, data=body, method="POST", headers={
                    "Content-Type": "application/json", "X-Portsim-Timestamp": str(stamp),
                    "X-Portsim-Signature": sign(self.secret, stamp, body)})
                try:
                    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (configured URL)
                        answer.read()
                    break
                except OSError:
                    time.sleep(0.5)
            self.callbacks_sent += 1

    def serve(self, host: str, port: int) -> ThreadingHTTPServer:
        house = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _json(self, status: int, value) -> None:
                body = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> dict:
                length = min(int(self.headers.get("Content-Length") or 0), 1_000_000)
                try:
                    value = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    return {}
                return value if isinstance(value, dict) else {}

            def do_GET(self):  # noqa: N802
                if self.path == "/admin/ports":
                    return self._json(200, {"ports": house.ports(), "callbacks_sent": house.callbacks_sent})
                if self.path == "/health":
                    return self._json(200, {"status": "ok"})
                return self._json(404, {"error": "not found"})

            def do_POST(self):  # noqa: N802
                body = self._body()
                callbacks: list[dict] = []
                if self.path == "/admin/rules":
                    house.rules = [dict(r) for r in body.get("rules", [])]
                    return self._json(200, {"rules": house.rules})
                if self.path == "/admin/port_out":
                    status, answer, callbacks = house.port_out(body)
                elif not hmac.compare_digest(self.headers.get("Authorization", ""), f"Bearer {house.api_key}"):
                    return self._json(401, {"status": "unauthorised"})
                elif self.path == "/v1/ports":
                    status, answer, callbacks = house.submit(body)
                elif (match := re.match(r"^/v1/ports/([\w-]{1,64})/(answer|cancel|complete)$", self.path)):
                    status, answer, callbacks = house.act(match.group(1), match.group(2), body)
                else:
                    return self._json(404, {"error": "not found"})
                try:
                    self._json(status, answer)
                except OSError:
                    pass
                if callbacks:
                    threading.Thread(target=house.send_callbacks, args=(callbacks,), daemon=True).start()

        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="telora portsim", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8791, help="0: any free port (printed on the first line)")
    parser.add_argument("--dir", default="var/portsim", help="where the ports are kept")
    parser.add_argument("--api-key", default="portsim-key", help="the Bearer key operators must send")
    parser.add_argument("--secret", default="portsim-secret", help="the HMAC secret that signs callbacks")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds before a callback is sent")
    parser.add_argument("--window-time", default="06:00", help="the porting window's time of day (UTC), HH:MM")
    parser.add_argument("--callback-url", default="", help="where port-out requests go when the call names none")
    parser.add_argument("--rules", default="", help="a JSON file: the donors' behaviour per number pattern")
    args = parser.parse_args(argv)
    house = ClearingHouse(Path(args.dir), api_key=args.api_key, secret=args.secret, latency=args.latency,
                          window_time=args.window_time, callback_url=args.callback_url)
    if args.rules:
        house.rules = json.loads(Path(args.rules).read_text())
    server = house.serve(args.host, args.port)
    print(f"portsim listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
