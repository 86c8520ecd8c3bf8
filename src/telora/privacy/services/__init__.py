"""Every write of data protection: consents, erasure, retention rules and their application."""

from telora.privacy.services.consents import record_consent
from telora.privacy.services.erasure import erase_customer, erasure_blockers, start_erasure
from telora.privacy.services.export import start_export
from telora.privacy.services.retention import apply_retention, set_retention

__all__ = ["apply_retention", "erase_customer", "erasure_blockers", "record_consent", "set_retention", "start_erasure",
           "start_export"]
