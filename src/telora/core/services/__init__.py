"""Every write in core goes through these functions (keyword-only `actor` and `at`, audited)."""

from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event, snapshot

__all__ = ["Actor", "ServiceError", "record_event", "snapshot"]
