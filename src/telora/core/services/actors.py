"""Who is acting: a user in a request, an API key, or a background job."""

from __future__ import annotations

from dataclasses import dataclass


class ServiceError(Exception):
    """A write refused for a reason a person can act on. `field` names the input at fault."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class PermissionDeniedError(ServiceError):
    def __init__(self, message: str = "You do not have the right to do this.", **kw):
        super().__init__(message, code="forbidden", **kw)


@dataclass(frozen=True)
class Actor:
    user: object | None = None
    api_key: object | None = None
    job: str = ""
    request_id: str = ""
    address: str | None = None

    @classmethod
    def from_request(cls, request) -> Actor:
        api_key = getattr(request, "api_key", None)
        user = getattr(request, "user", None)
        if user is not None and not getattr(user, "is_authenticated", False):
            user = None
        return cls(
            user=user,
            api_key=api_key,
            request_id=getattr(request, "request_id", ""),
            address=getattr(request, "client_address", None),
        )

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(job=job)

    @property
    def principal(self):
        """What rights are checked against: the API key if there is one, else the user."""
        return self.api_key or self.user

    @property
    def label(self) -> str:
        if self.api_key is not None:
            return f"api-key:{self.api_key.key_id} ({self.api_key.user.username})"
        if self.user is not None:
            return self.user.username
        return f"job:{self.job or 'system'}"
