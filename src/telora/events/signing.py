"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with the subscription's secret.

Headers of every delivery (docs/webhooks.md shows a receiver checking them):
    X-Telora-Event-Id:   the event's id (the same on every try of it: deduplicate on it)
    X-Telora-Timestamp:  Unix seconds when the try was signed (refuse old ones against replays)
    X-Telora-Signature:  v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from telora.core.sealing import Sealer

SIGNATURE_HEADER = "X-Telora-Signature"
TIMESTAMP_HEADER = "X-Telora-Timestamp"
EVENT_HEADER = "X-Telora-Event-Id"

SECRETS = Sealer("webhook secrets", variable="TELORA_WEBHOOK_KEY", info=b"telora-webhook-secrets",
                 wrong_key="The webhook secrets were sealed with another key (TELORA_WEBHOOK_KEY / SECRET_KEY).",
                 altered="A webhook secret was altered or belongs to another subscription.")


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (Python): recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def seal_secret(secret: str, subscription_id: int) -> bytes:
    return SECRETS.seal(secret, f"webhook:{subscription_id}".encode())


def open_secret(sealed, subscription_id: int) -> str:
    return SECRETS.unseal(sealed, f"webhook:{subscription_id}".encode())
