"""Per-request context: a request id, the client address, and the brand the user works in."""

import uuid

from telora.core.models import Brand

SESSION_BRAND_KEY = "telora_brand_id"


def client_address(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def available_brands(principal):
    return Brand.objects.for_user(principal).filter(is_active=True)


def active_brand(request):
    """The brand the user works in: the one chosen in the header, else their default, else the first."""
    user = request.user
    if not getattr(user, "is_authenticated", False):
        return None
    brands = list(available_brands(user))
    if not brands:
        return None
    by_id = {b.pk: b for b in brands}
    chosen = request.session.get(SESSION_BRAND_KEY)
    if chosen in by_id:
        return by_id[chosen]
    if user.default_brand_id in by_id:
        return by_id[user.default_brand_id]
    return brands[0]


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        request.client_address = client_address(request)
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


def current_brand(request):
    """`active_brand`, computed once per request."""
    if not hasattr(request, "_telora_brand"):
        request._telora_brand = active_brand(request)
    return request._telora_brand
