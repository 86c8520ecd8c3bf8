"""HTTP on kept-alive connections for the adapters: one connection per thread and target, reused.

A new TCP connection per request (urllib's way) costs both sides a connect and the simulator a thread;
a provisioning worker sends thousands to the same operator. A kept connection the server has closed
meanwhile fails at once; the request is then sent again on a fresh one: safe, because every
provisioning request carries its idempotency key (the operator answers a repeat as the first)."""

from __future__ import annotations

import http.client
import threading
from urllib.parse import urlsplit

_local = threading.local()
STALE = (http.client.RemoteDisconnected, http.client.BadStatusLine, ConnectionResetError, BrokenPipeError)
MAX_BODY = 4_000_000


def request(method: str, url: str, *, body: bytes | None = None, headers: dict, timeout: float) -> tuple[int, bytes]:
    """(status, body) of one exchange; OSError (TimeoutError, ConnectionRefusedError, …) when there is none."""
    parts = urlsplit(url)
    key = (parts.scheme, parts.netloc)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    pool = _local.__dict__.setdefault("connections", {})
    for attempt in (1, 2):
        connection = pool.get(key)
        reused = connection is not None
        if connection is None:
            kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            connection = pool[key] = kind(parts.hostname, parts.port, timeout=timeout)
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read(MAX_BODY + 1)
            if answer.will_close or len(data) > MAX_BODY:
                _drop(pool, key)
            return answer.status, data[:MAX_BODY]
        except STALE:
            _drop(pool, key)
            if reused and attempt == 1:
                continue  # the server closed the kept connection: once more on a fresh one
            raise
        except BaseException:
            _drop(pool, key)
            raise
    raise ConnectionError("unreachable")  # pragma: no cover (the loop returns or raises)


def _drop(pool: dict, key) -> None:
    connection = pool.pop(key, None)
    if connection is not None:
        connection.close()
