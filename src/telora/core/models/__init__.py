from telora.core.models.audit import AuditEvent
from telora.core.models.brands import (
    Brand,
    BrandOwned,
    BrandScopedQuerySet,
    brand_key_indexed_elsewhere,
    index_when_set,
)
from telora.core.models.jobs import Job
from telora.core.models.sequences import Sequence
from telora.core.models.users import ApiKey, BrandGrant, LoginAttempt, Role, User

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Brand",
    "BrandGrant",
    "BrandOwned",
    "BrandScopedQuerySet",
    "Job",
    "LoginAttempt",
    "Role",
    "Sequence",
    "User",
    "brand_key_indexed_elsewhere",
    "index_when_set",
]
