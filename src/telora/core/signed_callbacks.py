"""Callbacks signed with a timestamp and HMAC-SHA256 (`v1=<hex>` over `timestamp + "." + body`): the scheme
the network and porting simulators speak and many operators' APIs use. One check for every adapter that
takes such callbacks, so a fix to it (replay window, comparison, parsing) reaches them all."""

from __future__ import annotations

import hashlib
import hmac
import json

MAX_CALLBACK_AGE = 300  # seconds: an older (or future) signed callback is refused, against replays


class SignatureError(Exception):
    """A callback that is not its sender's (the endpoints answer 401 and log it)."""


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def read_signed_json(headers: dict, body: bytes, secret: str, *, now: float, timestamp_header: str,
                     signature_header: str) -> dict:
    """The callback's JSON object once its signature, its age and its shape are checked (SignatureError else)."""
    stamp, signature = headers.get(timestamp_header, ""), headers.get(signature_header, "")
    if not secret or not stamp.isdigit() or not signature:
        raise SignatureError("a callback without a timestamp and signature")
    if abs(now - int(stamp)) > MAX_CALLBACK_AGE:
        raise SignatureError("a callback signed too long ago (or in the future)")
    if not hmac.compare_digest(sign(secret, stamp, body), signature):
        raise SignatureError("the callback's signature does not match")
    try:
        data = json.loads(body)
    except ValueError:
        raise SignatureError("a signed callback that is not JSON") from None
    if not isinstance(data, dict):
        raise SignatureError("a signed callback that is not a JSON object")
    return data
