"""A host operator's (MVNE's) provisioning API over HTTPS/JSON, simulated, for tests and the demo
(`telora netsim --port 8790 --dir var/netsim`).

It speaks the protocol of the `mvne_json` adapter (docs/provisioning.md):

    POST /v1/requests   Authorization: Bearer <api key>, Idempotency-Key: <key>
        {"idempotency_key", "operation", "payload": {...}, "callback_url"}
      -> 202 {"status": "accepted", "correlation_id"}       the answer comes later, as a callback
      -> 422 {"status": "rejected", "error": {"code", "message"}}   a business rejection (permanent)
      -> 401 bad key; 5xx or no answer in time (transient: the client retries with the same key)
    GET  /v1/subscribers[/<msisdn>]   the simulator's subscriber database (reconciliation, tests)
    POST /admin/faults {"faults": [...], "latency": s}   faults for the next requests (tests)
    GET  /admin/requests              every request it took, with its answer

A request is carried out once per idempotency key: a repeat gets the first answer again and changes
nothing (so a client that lost an answer, or a worker killed after sending, may resend). The effect
is made when the request is accepted; a callback then POSTs to the request's `callback_url`:
    {"correlation_id", "idempotency_key", "status": "completed"|"failed"|"in_progress", "code",
     "message", "sequence", "subscriber": {...}}
signed like Telora's own webhooks: X-Netsim-Timestamp (Unix seconds) and
X-Netsim-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>.

Faults (each `{"kind": ..., "times": n, "operation": optional, "msisdn": optional}`, used in order by the
matching requests): `5xx` (503, nothing done), `timeout` (done, answered after the client gave up),
`reject` (422 with `code`), `duplicate_callback` (the completion twice), `out_of_order` (the
completion, then a stale `in_progress`), `callback_failed` (the completion says failed with `code`),
`lost_callback` (accepted and done, but no callback ever: the client must poll).

    GET  /v1/requests/<idempotency key>   a request's outcome (the final callback's body; 404 unknown)
    GET  /v1/subscribers?limit=&after=    the subscriber database a page at a time (MSISDN order,
                                          "next" is the cursor of the following page, "total")

Business rules: `create` of an existing number is SUBSCRIBER_EXISTS, anything on an unknown one
UNKNOWN_SUBSCRIBER; `change_services` with a mapping `{"data": true, "roaming": false}` switches the
subscriber's network services (roaming needs data: DATA_REQUIRED), and `delete` of a subscriber whose
network services are still on is SERVICES_ACTIVE, so a wrong order of steps fails here as at a network.

No Django here: standard library only (and lxml for the SOAP side at /soap, netsim_soap.py), its own SQLite
database under `--dir`.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sqlite3
import threading
import time
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from telora.provisioning import netsim_soap  # the SOAP side at /soap (lxml)

OPERATIONS = ("create", "change_services", "bar", "unbar", "sim_swap", "number_change", "delete")
SCHEMA = """
create table if not exists subscribers (msisdn text primary key, imsi text, iccid text, barred integer default 0,
    services text default '[]', created_at real, network_services text default '{}', barring text default '[]');
create table if not exists requests (idempotency_key text primary key, correlation_id text, operation text,
    payload text, status integer, answer text, final text, created_at real);
"""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


class Rejection(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class Network:
    """The subscriber database and the requests taken, in SQLite (one lock: the simulator is small)."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(folder / "netsim.sqlite3"), check_same_thread=False, isolation_level=None)
        self.db.executescript("pragma journal_mode = wal; pragma synchronous = normal;" + SCHEMA)  # no fsync per
        # request: a simulator keeps what it took across restarts, not across power cuts
        columns = {row[1] for row in self.db.execute("pragma table_info(subscribers)")}
        if "network_services" not in columns:  # a database of an older simulator
            self.db.execute("alter table subscribers add column network_services text default '{}'")
        if "barring" not in columns:  # a database made before the barred services were kept
            self.db.execute("alter table subscribers add column barring text default '[]'")
        self.lock = threading.Lock()

    def taken(self, key: str):
        row = self.db.execute("select status, answer, final from requests where idempotency_key = ?", (key,)).fetchone()
        return None if row is None else (row[0], json.loads(row[1]), json.loads(row[2]) if row[2] else None)

    def record(self, key, correlation, operation, payload, status, answer, final) -> None:
        self.db.execute("insert into requests values (?, ?, ?, ?, ?, ?, ?, ?)",
                        (key, correlation, operation, json.dumps(payload), status, json.dumps(answer),
                         json.dumps(final) if final else None, time.time()))

    def apply(self, operation: str, payload: dict) -> dict:
        """The effect of one request on the subscriber database; Rejection for a business refusal."""
        msisdn = str(payload.get("msisdn") or "")
        if not msisdn:
            raise Rejection("MISSING_MSISDN", "the request names no msisdn")
        row = self.db.execute("select msisdn, imsi, iccid, barred, services, network_services from subscribers "
                              "where msisdn = ?", (msisdn,)).fetchone()
        if operation == "create":
            if row is not None:
                raise Rejection("SUBSCRIBER_EXISTS", f"{msisdn} exists already")
            products = payload.get("services", [])
            self.db.execute("insert into subscribers (msisdn, imsi, iccid, barred, services, created_at) "
                            "values (?, ?, ?, 0, ?, ?)",
                            (msisdn, payload.get("imsi", ""), payload.get("iccid", ""),
                             json.dumps(products if isinstance(products, list) else []), time.time()))
        elif row is None:
            raise Rejection("UNKNOWN_SUBSCRIBER", f"{msisdn} is not provisioned")
        elif operation == "delete":
            active = sorted(json.loads(row[5] or "{}"))
            if active:
                raise Rejection("SERVICES_ACTIVE", f"{msisdn} still has {', '.join(active)}: remove them first")
            self.db.execute("delete from subscribers where msisdn = ?", (msisdn,))
        elif operation in ("bar", "unbar"):  # a bar names what it bars ("barring"; none: everything) and replaces it
            barring = [str(s) for s in payload.get("barring") or ["all"]] if operation == "bar" else []
            self.db.execute("update subscribers set barred = ?, barring = ? where msisdn = ?",
                            (int(operation == "bar"), json.dumps(barring), msisdn))
        elif operation == "sim_swap":
            self.db.execute("update subscribers set iccid = ?, imsi = ? where msisdn = ?",
                            (payload.get("iccid", ""), payload.get("imsi", ""), msisdn))
        elif operation == "change_services" and isinstance(payload.get("services"), dict):
            self.db.execute("update subscribers set network_services = ? where msisdn = ?",
                            (json.dumps(self.switch(msisdn, json.loads(row[5] or "{}"), payload["services"])), msisdn))
        elif operation == "change_services":
            self.db.execute("update subscribers set services = ? where msisdn = ?",
                            (json.dumps(payload.get("services", [])), msisdn))
        elif operation == "number_change":
            new = str(payload.get("new_msisdn") or "")
            if not new:
                raise Rejection("MISSING_MSISDN", "a number change names new_msisdn")
            self.db.execute("update subscribers set msisdn = ? where msisdn = ?", (new, msisdn))
        return self.subscriber(str(payload.get("new_msisdn") or msisdn)) or {"msisdn": msisdn, "deleted": True}

    @staticmethod
    def switch(msisdn: str, enabled: dict, changes: dict) -> dict:
        """The network services after a change_services with a services mapping (name -> on/off). Removing
        one that is off changes nothing; roaming runs on data, so it needs data and goes before it."""
        enabled = dict(enabled)
        for name, on in changes.items():
            if on:
                enabled[str(name)] = True
            else:
                enabled.pop(str(name), None)
        if "roaming" in enabled and "data" not in enabled:
            raise Rejection("DATA_REQUIRED", f"{msisdn}: roaming needs data enabled first (and removed before it)")
        return dict(sorted(enabled.items()))

    def subscriber(self, msisdn: str) -> dict | None:
        row = self.db.execute("select msisdn, imsi, iccid, barred, services, network_services, barring from subscribers "
                              "where msisdn = ?", (msisdn,)).fetchone()
        if row is None:
            return None
        return {"msisdn": row[0], "imsi": row[1], "iccid": row[2], "barred": bool(row[3]),
                "services": json.loads(row[4]), "network_services": sorted(json.loads(row[5] or "{}")),
                "barring": json.loads(row[6] or "[]")}

    def subscribers(self) -> list[dict]:
        return [self.subscriber(m) for (m,) in self.db.execute("select msisdn from subscribers order by msisdn")]

    def status(self, key: str) -> dict | None:
        """A request's outcome as a poll answers it (the final callback's body, or the rejection)."""
        row = self.db.execute("select correlation_id, status, answer, final from requests where idempotency_key = ?",
                              (key,)).fetchone()
        if row is None:
            return None
        correlation, status, answer, final = row[0], row[1], json.loads(row[2]), json.loads(row[3]) if row[3] else None
        if final is not None:
            return final
        error = answer.get("error") or {}
        return {"correlation_id": correlation, "idempotency_key": key, "status": "rejected" if status == 422 else
                answer.get("status", ""), "code": error.get("code", ""), "message": error.get("message", ""),
                "sequence": 2, "subscriber": None}

    def subscribers_page(self, after: str, limit: int) -> tuple[list[dict], str | None, int]:
        """One page of the subscriber database in MSISDN order after `after` (a keyset cursor)."""
        rows = self.db.execute("select msisdn from subscribers where msisdn > ? order by msisdn limit ?",
                               (after, limit + 1)).fetchall()
        total = self.db.execute("select count(*) from subscribers").fetchone()[0]
        page = [self.subscriber(m) for (m,) in rows[:limit]]
        return page, (page[-1]["msisdn"] if len(rows) > limit else None), total

    def requests(self) -> list[dict]:
        rows = self.db.execute("select idempotency_key, correlation_id, operation, status, answer from requests "
                               "order by created_at")
        return [{"idempotency_key": k, "correlation_id": c, "operation": o, "status": s, "answer": json.loads(a)}
                for k, c, o, s, a in rows]


class Simulator:
    def __init__(self, folder: Path, *, api_key: str, secret: str, latency: float = 0.05,
                 timeout_delay: float = 3.0):
        self.network = Network(folder)
        self.api_key, self.secret = api_key, secret
        self.latency, self.timeout_delay = latency, timeout_delay
        self.faults: list[dict] = []
        self.callbacks_sent = 0

    def take_fault(self, operation: str, msisdn: str) -> dict | None:
        for fault in self.faults:
            if fault.get("operation") not in (None, operation) or fault.get("msisdn") not in (None, msisdn):
                continue
            fault["times"] = int(fault.get("times", 1)) - 1
            if fault["times"] <= 0:
                self.faults.remove(fault)
            return fault
        return None

    def handle_request(self, body: dict) -> tuple[int, dict, list[dict], float]:
        """(status, answer, callbacks to send, seconds to wait before answering)."""
        key = str(body.get("idempotency_key") or "")
        operation = body.get("operation")
        payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
        if not key or operation not in OPERATIONS:
            return 400, {"status": "invalid", "error": {"code": "BAD_REQUEST",
                                                        "message": "idempotency_key and a known operation"}}, [], 0
        with self.network.lock:
            taken = self.network.taken(key)
            if taken is not None:  # the same request again: the first answer, no new effect, no new callback
                return taken[0], taken[1], [], 0
            fault = self.take_fault(operation, str(payload.get("msisdn") or ""))
            kind = fault.get("kind") if fault else ""
            if kind == "5xx":
                return 503, {"status": "unavailable"}, [], 0
            correlation = "NS-" + uuid.uuid4().hex[:12]
            try:
                if kind == "reject":
                    raise Rejection(fault.get("code", "REJECTED"), fault.get("message", "refused by the operator"))
                subscriber = self.network.apply(operation, payload)
            except Rejection as exc:
                answer = {"status": "rejected", "correlation_id": correlation,
                          "error": {"code": exc.code, "message": exc.message}}
                self.network.record(key, correlation, operation, payload, 422, answer, None)
                return 422, answer, [], 0
            final = {"correlation_id": correlation, "idempotency_key": key, "status": "completed", "code": "",
                     "message": "", "sequence": 2, "subscriber": subscriber}
            if kind == "callback_failed":
                final.update(status="failed", code=fault.get("code", "NETWORK_ERROR"), message="failed in the network")
            answer = {"status": "accepted", "correlation_id": correlation}
            self.network.record(key, correlation, operation, payload, 202, answer, final)
        callbacks = [final]
        if kind == "lost_callback":  # accepted and done, but the callback never leaves (polling finds it)
            callbacks = []
        elif kind == "duplicate_callback":
            callbacks = [final, final]
        elif kind == "out_of_order":
            callbacks = [final, {**final, "status": "in_progress", "sequence": 1, "subscriber": None}]
        return 202, answer, [{**c, "callback_url": body.get("callback_url", "")} for c in callbacks], \
            self.timeout_delay if kind == "timeout" else 0

    def send_callbacks(self, callbacks: list[dict]) -> None:
        time.sleep(self.latency)
        for callback in callbacks:
            url = callback.pop("callback_url", "")
            if not url:
                continue
            body = json.dumps(callback).encode()
            stamp = int(time.time())
            request = urllib.request.Request(url, data=body, method="POST", headers={
                "Content-Type": "application/json", "X-Netsim-Timestamp": str(stamp),
                "X-Netsim-Signature": sign(self.secret, stamp, body)})
            for _ in range(5):  # a callback that does not get through is tried again a few times
                try:
                    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (configured URL)
                        answer.read()
                    break
                except OSError:
                    time.sleep(0.5)
            self.callbacks_sent += 1

    def serve(self, host: str, port: int) -> ThreadingHTTPServer:
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # kept-alive clients: the answer's headers and body leave at once

            def log_message(self, *args):  # quiet: tests read /admin/requests instead
                pass

            def _json(self, status: int, value) -> None:
                body = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    value = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    return {}
                return value if isinstance(value, dict) else {}

            def do_GET(self):  # noqa: N802
                if self.path.startswith("/soap"):
                    return netsim_soap.handle_get(simulator, self)
                path, _, query = self.path.partition("?")
                keyed = hmac.compare_digest(self.headers.get("Authorization", ""), f"Bearer {simulator.api_key}")
                if (path.startswith("/v1/requests/") or path == "/v1/subscribers" and query) and not keyed:
                    return self._json(401, {"status": "unauthorised"})  # (the bare list stays open for tests)
                if path.startswith("/v1/requests/"):
                    with simulator.network.lock:
                        found = simulator.network.status(urllib.parse.unquote(path.rsplit("/", 1)[1]))
                    return self._json(200 if found else 404, found or {"error": {"code": "UNKNOWN_REQUEST",
                                                                                  "message": "no such request"}})
                if path == "/v1/subscribers" and query:
                    params = urllib.parse.parse_qs(query)
                    limit = max(1, min(int((params.get("limit") or ["500"])[0] or 500), 5000))
                    with simulator.network.lock:
                        page, following, total = simulator.network.subscribers_page((params.get("after") or [""])[0],
                                                                                    limit)
                    return self._json(200, {"subscribers": page, "next": following, "total": total})
                if self.path == "/v1/subscribers":
                    return self._json(200, {"subscribers": simulator.network.subscribers()})
                if self.path.startswith("/v1/subscribers/"):
                    found = simulator.network.subscriber(self.path.rsplit("/", 1)[1])
                    return self._json(200 if found else 404, found or {"error": "unknown subscriber"})
                if self.path == "/admin/requests":
                    return self._json(200, {"requests": simulator.network.requests(),
                                            "callbacks_sent": simulator.callbacks_sent})
                if self.path == "/health":
                    return self._json(200, {"status": "ok"})
                return self._json(404, {"error": "not found"})

            def do_POST(self):  # noqa: N802
                if self.path.startswith("/soap"):
                    return netsim_soap.handle_post(simulator, self)
                body = self._body()
                if self.path == "/admin/faults":
                    simulator.faults = [dict(f) for f in body.get("faults", [])]
                    if "latency" in body:
                        simulator.latency = float(body["latency"])
                    return self._json(200, {"faults": simulator.faults})
                if self.path != "/v1/requests":
                    return self._json(404, {"error": "not found"})
                if not hmac.compare_digest(self.headers.get("Authorization", ""), f"Bearer {simulator.api_key}"):
                    return self._json(401, {"status": "unauthorised"})
                status, answer, callbacks, delay = simulator.handle_request(body)
                if delay:
                    time.sleep(delay)  # the client has given up by now; the effect is made all the same
                try:
                    self._json(status, answer)
                except OSError:
                    pass
                if callbacks:
                    threading.Thread(target=simulator.send_callbacks, args=(callbacks,), daemon=True).start()

        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="telora netsim", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8790, help="0: any free port (printed on the first line)")
    parser.add_argument("--dir", default="var/netsim", help="where the subscriber database is kept")
    parser.add_argument("--api-key", default="netsim-key", help="the Bearer key clients must send")
    parser.add_argument("--secret", default="netsim-secret", help="the HMAC secret that signs callbacks")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds before a callback is sent")
    parser.add_argument("--timeout-delay", type=float, default=3.0, help="seconds a `timeout` fault holds the answer")
    parser.add_argument("--faults", default="", help="a JSON file: a list of faults for the first requests")
    netsim_soap.add_arguments(parser)
    args = parser.parse_args(argv)
    simulator = Simulator(Path(args.dir), api_key=args.api_key, secret=args.secret, latency=args.latency,
                          timeout_delay=args.timeout_delay)
    netsim_soap.configure(simulator, args)
    if args.faults:
        simulator.faults = json.loads(Path(args.faults).read_text())
    server = simulator.serve(args.host, args.port)
    print(f"netsim listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
