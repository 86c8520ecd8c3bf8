"""Per-request context: a request id, the client address, and the brand the user works in."""

import functools
import ipaddress
import re
import uuid

from django.conf import settings

from telora.core.models import Brand

SESSION_BRAND_KEY = "telora_brand_id"
# What an X-Request-ID may be to be kept (and stored in audit events): anything else is replaced.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}\Z")


def request_id(request) -> str:
    """The caller's X-Request-ID when it is a plain token of at most 64 characters, else a fresh one.

    A longer or odd id is not stored or echoed (audit events keep 64 characters, and the id reaches
    CSV exports and logs)."""
    given = request.headers.get("X-Request-ID", "")
    return given if REQUEST_ID.match(given) else uuid.uuid4().hex


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _ip(text: str):
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.7:51234"
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address(request) -> str | None:
    """The address of the client, not of the proxy in front of Telora.

    REMOTE_ADDR, unless it is one of TELORA_TRUSTED_PROXIES (addresses or networks): then the
    right-most address of the TELORA_CLIENT_IP_HEADER chain (X-Forwarded-For) that is not itself a
    trusted proxy. A header sent by anyone else is ignored, so a client cannot choose its address.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    trusted = _networks(tuple(settings.TELORA_TRUSTED_PROXIES))
    header = settings.TELORA_CLIENT_IP_HEADER
    remote_ip = _ip(remote) if remote else None
    if not (trusted and header and remote_ip and any(remote_ip in net for net in trusted)):
        return remote
    chain = request.headers.get(header, "").split(",")
    for entry in reversed(chain):
        ip = _ip(entry)
        if ip is None:
            return remote  # the chain is not what a trusted proxy writes: keep the proxy's address
        if not any(ip in net for net in trusted):
            return str(ip)
    return remote


def available_brands(principal):
    return Brand.objects.for_user(principal).filter(is_active=True)


def active_brand(request):
    """The brand the user works in: the one chosen in the header, else their default, else the first."""
    user = request.user
    if not getattr(user, "is_authenticated", False):
        return None
    brands = list(available_brands(user))
    if not brands:
        return None
    by_id = {b.pk: b for b in brands}
    chosen = request.session.get(SESSION_BRAND_KEY)
    if chosen in by_id:
        return by_id[chosen]
    if user.default_brand_id in by_id:
        return by_id[user.default_brand_id]
    return brands[0]


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id(request)
        request.client_address = client_address(request)
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


def current_brand(request):
    """`active_brand`, computed once per request."""
    if not hasattr(request, "_telora_brand"):
        request._telora_brand = active_brand(request)
    return request._telora_brand
