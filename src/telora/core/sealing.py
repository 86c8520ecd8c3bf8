"""Secrets sealed at rest with AES-256-GCM: one mechanism for every app that keeps a secret
(SIM PINs and PUKs, the SFTP sources' credentials).

A `Sealer` has its own key, from its environment variable (any long random string; set it in
production and keep it apart from the backups), else derived from Django's SECRET_KEY under the
sealer's own HKDF label. A sealed value starts with a version byte and the key's 4-byte
fingerprint, so a wrong key fails clearly, and is bound to its row by the GCM associated data the
caller gives (`context`), so a value copied to another row does not open. Every sealer is listed
in `SEALERS`: a backup names each key by its fingerprint, never the key itself.
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
    """A sealed value that cannot be opened (wrong key or altered data)."""


@functools.lru_cache(maxsize=8)
def _key(material: str, info: bytes) -> tuple[AESGCM, bytes]:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"telora", info=info).derive(material.encode())
    return AESGCM(key), hashlib.sha256(key).digest()[:4]


class Sealer:
    """Seals JSON values with the key of `variable` (else SECRET_KEY) under the HKDF label `info`.
    `wrong_key` and `altered` are the messages a SealError carries when a value does not open."""

    def __init__(self, name: str, *, variable: str, info: bytes, wrong_key: str, altered: str):
        self.name, self.variable, self.info = name, variable, info
        self.wrong_key, self.altered = wrong_key, altered
        SEALERS[name] = self

    def _current(self) -> tuple[AESGCM, bytes]:
        return _key(os.environ.get(self.variable) or settings.SECRET_KEY, self.info)

    def fingerprint(self) -> bytes:
        return self._current()[1]

    def source(self) -> str:
        """Where the key comes from: its own variable, or SECRET_KEY."""
        return self.variable if os.environ.get(self.variable) else "SECRET_KEY"

    def seal(self, value, context: bytes) -> bytes:
        cipher, fingerprint = self._current()
        nonce = os.urandom(NONCE_BYTES)
        plain = json.dumps(value, separators=(",", ":")).encode()
        return VERSION + fingerprint + nonce + cipher.encrypt(nonce, plain, context)

    def unseal(self, blob: bytes | memoryview, context: bytes):
        blob = bytes(blob)
        cipher, fingerprint = self._current()
        if blob[:1] != VERSION or blob[1:5] != fingerprint:
            raise SealError(self.wrong_key)
        nonce, sealed = blob[5:5 + NONCE_BYTES], blob[5 + NONCE_BYTES:]
        try:
            return json.loads(cipher.decrypt(nonce, sealed, context))
        except InvalidTag:
            raise SealError(self.altered) from None


SEALERS: dict[str, Sealer] = {}
