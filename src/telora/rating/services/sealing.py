"""SFTP credentials of pull sources (password, private key) encrypted at rest with AES-256-GCM,
the scheme of `telora.inventory.sealing`: a dump, a replica or an audit event never holds them.

The key comes from TELORA_SOURCES_SECRETS_KEY (any long random string; set it in production and
back it up with the database), else it is derived from Django's SECRET_KEY (HKDF, its own
`info`, so it differs from every other key derived from it). A sealed value is a version byte,
the key's 4-byte fingerprint, a 12-byte nonce and the ciphertext, bound to the brand and the
source's row (GCM associated data): a value copied to another source does not open.
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

VERSION = b"\x01"
NONCE_BYTES = 12


class SealError(Exception):
    """Credentials that cannot be opened (wrong key or altered data)."""


@functools.lru_cache(maxsize=4)
def _key(material: str) -> tuple[AESGCM, bytes]:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"telora", info=b"rating.source-secrets").derive(
        material.encode()
    )
    return AESGCM(key), hashlib.sha256(key).digest()[:4]


def _current() -> tuple[AESGCM, bytes]:
    return _key(os.environ.get("TELORA_SOURCES_SECRETS_KEY") or settings.SECRET_KEY)


def _context(brand_id: int, source_id: int) -> bytes:
    return f"rating.source:{brand_id}:{source_id}".encode()


def seal(*, password: str, private_key: str, brand_id: int, source_id: int) -> bytes | None:
    """Seal the credentials; None when there are none."""
    if not password and not private_key:
        return None
    cipher, fingerprint = _current()
    nonce = os.urandom(NONCE_BYTES)
    plain = json.dumps({"password": password, "key": private_key}, separators=(",", ":")).encode()
    return VERSION + fingerprint + nonce + cipher.encrypt(nonce, plain, _context(brand_id, source_id))


def unseal(blob: bytes | memoryview | None, *, brand_id: int, source_id: int) -> tuple[str, str]:
    """(password, private key), empty strings when unknown."""
    if not blob:
        return "", ""
    blob = bytes(blob)
    cipher, fingerprint = _current()
    if blob[:1] != VERSION or blob[1:5] != fingerprint:
        raise SealError("credentials: sealed with another key (TELORA_SOURCES_SECRETS_KEY); enter them again")
    nonce, sealed = blob[5:5 + NONCE_BYTES], blob[5 + NONCE_BYTES:]
    try:
        values = json.loads(cipher.decrypt(nonce, sealed, _context(brand_id, source_id)))
    except InvalidTag:
        raise SealError("credentials: they do not open (altered, or copied from another source)") from None
    return values.get("password", ""), values.get("key", "")
