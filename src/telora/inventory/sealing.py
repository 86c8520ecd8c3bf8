"""SIM secrets (PIN1, PUK1, PIN2, PUK2) encrypted at rest with AES-256-GCM.

Why: a database dump, a replica or a careless serialiser must not hand out the codes that
unlock customers' SIM cards. The four codes of one card are sealed together in one value bound
to its brand and ICCID (GCM associated data), so a sealed value copied to another card does not
open. Only `telora.inventory.selectors.sim_secrets` (right `inventory.secrets`, audited) opens them.

The key comes from TELORA_INVENTORY_SECRETS_KEY (any long random string; set it in production
and back it up with the database), else it is derived from Django's SECRET_KEY. Each sealed value
starts with a version byte and the key's 4-byte fingerprint, so a wrong key fails clearly.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

SECRET_FIELDS = ("pin1", "puk1", "pin2", "puk2")
VERSION = b"\x01"
NONCE_BYTES = 12


class SealError(Exception):
    """A sealed value that cannot be opened (wrong key or tampered data)."""


@functools.lru_cache(maxsize=4)
def _key(material: str) -> tuple[AESGCM, bytes]:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"telora", info=b"inventory.sim-secrets").derive(
        material.encode()
    )
    return AESGCM(key), hashlib.sha256(key).digest()[:4]


def _current() -> tuple[AESGCM, bytes]:
    return _key(os.environ.get("TELORA_INVENTORY_SECRETS_KEY") or settings.SECRET_KEY)


def _context(brand_id: int, iccid: str) -> bytes:
    return f"{brand_id}:{iccid}".encode()


def seal(values: dict, *, brand_id: int, iccid: str) -> bytes | None:
    """Seal the four codes; None when the card has none on record (nothing to protect)."""
    codes = [values.get(name) or "" for name in SECRET_FIELDS]
    if not any(codes):
        return None
    cipher, fingerprint = _current()
    nonce = os.urandom(NONCE_BYTES)
    plain = json.dumps(codes, separators=(",", ":")).encode()
    return VERSION + fingerprint + nonce + cipher.encrypt(nonce, plain, _context(brand_id, iccid))


def unseal(blob: bytes | memoryview | None, *, brand_id: int, iccid: str) -> dict[str, str]:
    """The four codes (empty strings when unknown)."""
    if not blob:
        return dict.fromkeys(SECRET_FIELDS, "")
    blob = bytes(blob)
    cipher, fingerprint = _current()
    if blob[:1] != VERSION or blob[1:5] != fingerprint:
        raise SealError("the SIM secrets were sealed with another key (TELORA_INVENTORY_SECRETS_KEY)")
    nonce, sealed = blob[5:5 + NONCE_BYTES], blob[5 + NONCE_BYTES:]
    try:
        codes = json.loads(cipher.decrypt(nonce, sealed, _context(brand_id, iccid)))
    except InvalidTag:
        raise SealError("the SIM secrets do not open: they belong to another card or were altered") from None
    return dict(zip(SECRET_FIELDS, codes, strict=True))
