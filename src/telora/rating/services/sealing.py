"""SFTP credentials of pull sources (password, private key) encrypted at rest (telora.core.sealing):
a dump, a replica or an audit event never holds them.

The key comes from TELORA_SOURCES_SECRETS_KEY (any long random string; set it in production and
keep it apart from the backups), else it is derived from Django's SECRET_KEY under its own label.
A sealed value is bound to the brand and the source's row: copied to another source it does not open.
"""

from __future__ import annotations

from telora.core.sealing import Sealer, SealError

__all__ = ["SealError", "seal", "unseal"]

SEALER = Sealer("source credentials", variable="TELORA_SOURCES_SECRETS_KEY", info=b"rating.source-secrets",
                wrong_key="credentials: sealed with another key (TELORA_SOURCES_SECRETS_KEY); enter them again",
                altered="credentials: they do not open (altered, or copied from another source)")


def _context(brand_id: int, source_id: int) -> bytes:
    return f"rating.source:{brand_id}:{source_id}".encode()


def seal(*, password: str, private_key: str, brand_id: int, source_id: int) -> bytes | None:
    """Seal the credentials; None when there are none."""
    if not password and not private_key:
        return None
    return SEALER.seal({"password": password, "key": private_key}, _context(brand_id, source_id))


def unseal(blob: bytes | memoryview | None, *, brand_id: int, source_id: int) -> tuple[str, str]:
    """(password, private key), empty strings when unknown."""
    if not blob:
        return "", ""
    values = SEALER.unseal(blob, _context(brand_id, source_id))
    return values.get("password", ""), values.get("key", "")
