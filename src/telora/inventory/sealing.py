"""SIM secrets (PIN1, PUK1, PIN2, PUK2) encrypted at rest (telora.core.sealing).

Why: a database dump, a replica or a careless serialiser must not hand out the codes that
unlock customers' SIM cards. The four codes of one card are sealed together in one value bound
to its brand and ICCID (GCM associated data), so a sealed value copied to another card does not
open. Only `telora.inventory.selectors.sim_secrets` (right `inventory.secrets`, audited) opens them.

The key comes from TELORA_INVENTORY_SECRETS_KEY (any long random string; set it in production
and keep it apart from the backups), else it is derived from Django's SECRET_KEY.
"""

from __future__ import annotations

from telora.core.sealing import Sealer, SealError

__all__ = ["SECRET_FIELDS", "SealError", "seal", "unseal"]

SECRET_FIELDS = ("pin1", "puk1", "pin2", "puk2")
SEALER = Sealer("SIM secrets", variable="TELORA_INVENTORY_SECRETS_KEY", info=b"inventory.sim-secrets",
                wrong_key="the SIM secrets were sealed with another key (TELORA_INVENTORY_SECRETS_KEY)",
                altered="the SIM secrets do not open: they belong to another card or were altered")


def _context(brand_id: int, iccid: str) -> bytes:
    return f"{brand_id}:{iccid}".encode()


def seal(values: dict, *, brand_id: int, iccid: str) -> bytes | None:
    """Seal the four codes; None when the card has none on record (nothing to protect)."""
    codes = [values.get(name) or "" for name in SECRET_FIELDS]
    if not any(codes):
        return None
    return SEALER.seal(codes, _context(brand_id, iccid))


def unseal(blob: bytes | memoryview | None, *, brand_id: int, iccid: str) -> dict[str, str]:
    """The four codes (empty strings when unknown)."""
    if not blob:
        return dict.fromkeys(SECRET_FIELDS, "")
    return dict(zip(SECRET_FIELDS, SEALER.unseal(blob, _context(brand_id, iccid)), strict=True))
