"""The webhook sender's HTTP client: validated URLs, a guard against private addresses, timeouts and
a bound on what is read back.

The host name is resolved once and the connection goes to that address (TLS still checks the
certificate against the name), so a name cannot point at a public address when checked and at an
internal one when used. Private, loopback, link-local, multicast and reserved addresses are refused
unless TELORA_WEBHOOK_ALLOW_PRIVATE is set (an installation whose receivers live inside its network;
the tests).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

URL_MAX = 500
RESPONSE_READ_MAX = 64 * 1024  # bytes read from an answer at most; the rest is not read
RESPONSE_KEEP = 2000  # characters of the answer stored with the try


class CallbackError(ValueError):
    """A callback URL that may not be used, with the reason."""


def allow_private() -> bool:
    return bool(getattr(settings, "TELORA_WEBHOOK_ALLOW_PRIVATE", False))


def timeout() -> float:
    return float(getattr(settings, "TELORA_WEBHOOK_TIMEOUT", 10.0))


def check_url(url: str) -> str:
    """The URL if it may be a callback (http or https, a host, at most URL_MAX characters, no
    credentials, no fragment), else CallbackError naming what is wrong."""
    url = (url or "").strip()
    if not url:
        raise CallbackError("is required")
    if len(url) > URL_MAX:
        raise CallbackError(f"at most {URL_MAX} characters")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise CallbackError("must not contain spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise CallbackError("must start with http:// or https://")
    if not parts.hostname:
        raise CallbackError("names no host")
    if parts.username or parts.password:
        raise CallbackError("must not carry a user name or password")
    if parts.fragment:
        raise CallbackError("must not have a #fragment")
    try:
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise CallbackError("has an invalid port") from None
    if not allow_private():
        try:
            address = ipaddress.ip_address(parts.hostname)
        except ValueError:
            address = None
        if address is not None and _forbidden(address):
            raise CallbackError(f"{address} is a private or reserved address (TELORA_WEBHOOK_ALLOW_PRIVATE is off)")
        if parts.hostname.lower() in ("localhost", "localhost.localdomain") or parts.hostname.endswith(".localhost"):
            raise CallbackError("localhost is not allowed (TELORA_WEBHOOK_ALLOW_PRIVATE is off)")
    return url


def _forbidden(address) -> bool:
    return not address.is_global or address.is_multicast


def resolve(host: str, port: int) -> str:
    """The address to connect to; CallbackError when none is allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CallbackError(f"cannot resolve {host}: {exc.strerror}") from None
    addresses = [info[4][0] for info in infos]
    if not allow_private():
        bad = [a for a in addresses if _forbidden(ipaddress.ip_address(a.split("%")[0]))]
        if bad:
            raise CallbackError(f"{host} resolves to {bad[0]}, a private or reserved address")
    return addresses[0]


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, address: str, host: str, port: int, **kw):
        super().__init__(host, port, context=ssl.create_default_context(), **kw)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Answer:
    status_code: int | None
    body: str
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body`; never raises for network trouble (the Answer says what happened)."""
    started = time.monotonic()

    def answer(code=None, text="", error=""):
        return Answer(code, text[:RESPONSE_KEEP], error[:500], int((time.monotonic() - started) * 1000))

    try:
        check_url(url)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = resolve(parts.hostname, port)
        if parts.scheme == "https":
            conn = _PinnedHTTPS(address, parts.hostname, port, timeout=timeout())
        else:
            conn = http.client.HTTPConnection(address, port, timeout=timeout())
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
            conn.request("POST", path, body=body, headers={**headers, "Host": host_header,
                                                               "Content-Length": str(len(body))})
            response = conn.getresponse()
            data = response.read(RESPONSE_READ_MAX)
            return answer(response.status, data.decode("utf-8", "replace"))
        finally:
            conn.close()
    except CallbackError as exc:
        return answer(error=f"refused: {exc}")
    except (OSError, http.client.HTTPException) as exc:
        return answer(error=f"{type(exc).__name__}: {exc}")
