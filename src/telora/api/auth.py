"""Who is calling: an API key, or the GUI's logged-in user.

An API key is sent as `Authorization: Bearer <token>` or `X-API-Key: <token>`. The key itself is
the rights principal (its owner's rights narrowed to the key's brands and permissions), so
handlers ask `principal(request)` and never `request.user` for rights. A key header that does
not name an active key is a 401 even if a session cookie or the other key header is valid: a
client that sends a key means that key. Both headers may be sent only if they name the same key.

Without a key header, a Django session works (the GUI calling its own API); unsafe methods then
need the CSRF token (`X-CSRFToken` header), as any form post would.

After authentication every request carries `request.api_key` (the ApiKey or None) and
`request.user` (the key's owner for a key), which is what `Actor.from_request` reads.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, APIKeyHeader, HttpBearer
from ninja.utils import check_csrf

from telora.core import clock, rights
from telora.core.services.actors import PermissionDeniedError
from telora.core.services.users import authenticate_api_key


def _key_principal(request: HttpRequest, token: str | None):
    if not token:
        return None
    key = authenticate_api_key(token, at=clock.now())
    if key is None:
        raise AuthenticationError()
    # ninja stops at the first scheme that succeeds, so the Bearer check also judges X-API-Key:
    # a bad (or different) key there must not pass unnoticed behind a good Bearer token.
    other = request.headers.get(ApiKeyHeader.param_name)
    if other and other.strip() != token.strip():
        second = authenticate_api_key(other, at=clock.now())
        if second is None or second.pk != key.pk:
            raise AuthenticationError()
    request.api_key = key
    request.user = key.user
    return key


class ApiKeyBearer(HttpBearer):
    """`Authorization: Bearer tel_…`"""

    def authenticate(self, request, token):
        return _key_principal(request, token)


class ApiKeyHeader(APIKeyHeader):
    """`X-API-Key: tel_…`"""

    param_name = "X-API-Key"

    def authenticate(self, request, key):
        return _key_principal(request, key)


class SessionAuth(APIKeyCookie):
    """The logged-in GUI user; unsafe methods must carry the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request):
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header with the csrftoken cookie.")
        request.api_key = None
        return user


AUTH = [ApiKeyBearer(), ApiKeyHeader(), SessionAuth()]


def principal(request):
    """What rights are checked against: the API key if one was used, else the user.

    Pass it to `Model.objects.for_user(principal(request), action)`.
    """
    return getattr(request, "api_key", None) or request.user


def require_perm(request, perm: str):
    """403 unless the principal holds `perm` (e.g. "users.view") in at least one brand.

    Returns the brand ids where it does (or rights.ALL). Lookups of single objects still go
    through `for_user`, so an object in a brand out of reach is a 404, never a 403.
    """
    brand_ids = rights.brands_with(principal(request), perm)
    if brand_ids is not rights.ALL and not brand_ids:
        raise PermissionDeniedError(f"You lack {perm} in every brand.")
    return brand_ids
