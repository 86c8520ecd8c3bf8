"""Input that no API operation can take, refused before any handler sees it (a 400/413 in the TM
Forum error shape naming the field), and the headers every API answer carries.

`ApiGuardMiddleware` (in settings.MIDDLEWARE) looks at requests under /api/ and /tmf-api/:

- a NUL character in the path (404: nothing is named so) or in a query parameter (400 naming it);
  PostgreSQL text cannot hold NUL, so it would otherwise fail deep in a query;
- a `multipart/form-data` body without a usable boundary (400 naming `Content-Type`);
- a body that is not a form: nested more than MAX_DEPTH levels (400 naming `body`), checked on the
  raw bytes before any parser recurses into it; JSON strings (values or keys) holding NUL (400
  naming the place, `records[3].source`); a body over DATA_UPLOAD_MAX_MEMORY_SIZE (413).

Form fields with NUL are refused by `GuardedParser.parse_querydict` (after authentication, so an
anonymous upload is never parsed). Every API answer gets `Cache-Control: no-store` (answers hold
personal data and must not sit in shared or browser caches).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.utils.http import parse_header_parameters
from ninja import Schema
from ninja.parser import Parser
from ninja.schema import DjangoGetter
from pydantic import model_validator

from telora.api.errors import error_body
from telora.core.services.actors import ServiceError

API_PREFIXES = ("/api/", "/tmf-api/")
MAX_DEPTH = 32  # Telora's deepest documents (TMF resources, catalogue files) nest under 10
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")
# Django's own rule for a multipart boundary (RFC 2046: 1-70 printable characters).
_BOUNDARY = re.compile(r"^[ -~]{0,200}[!-~]$")


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON (or YAML flow) text nests brackets deeper than `limit`; brackets inside
    double-quoted strings do not count. Linear, without recursion."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if len(brackets) <= limit:
        return False
    depth = 0
    for char in brackets:
        if char in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def nul_path(data, path: str = "") -> str | None:
    """Where a NUL character sits in parsed JSON (`records[3].source`), or None."""
    stack = [(data, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return where
        elif isinstance(value, dict):
            for key, item in value.items():
                name = f"{where}.{key}" if where else str(key)
                if "\x00" in str(key):
                    return name
                stack.append((item, name))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{index}]") for index, item in enumerate(value))
    return None


def _refusal(status: int, field: str, message: str) -> JsonResponse:
    if status == 400:
        body = error_body(400, f"{field}: {message}", reason="Invalid input",
                          errors=[{"field": field, "message": message}])
    else:
        body = error_body(status, message)
    return JsonResponse(body, status=status)


def check_request(request) -> JsonResponse | None:
    """The refusal for a request no API operation can take, or None."""
    if "\x00" in request.path:
        return JsonResponse(error_body(404, "No such resource."), status=404)
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            return _refusal(400, name.replace("\x00", ""), "contains a NUL character")
    content_type = request.META.get("CONTENT_TYPE", "")
    mime, params = parse_header_parameters(content_type) if content_type else ("", {})
    if mime == "multipart/form-data":
        boundary = params.get("boundary", "")
        if not boundary or not _BOUNDARY.match(boundary):
            return _refusal(400, "Content-Type", "multipart/form-data needs a boundary parameter "
                                                 "(let your HTTP client build the form)")
        return None
    if mime in FORM_TYPES or request.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return None
    try:
        body = request.body
    except RequestDataTooBig:
        return _refusal(413, "body", f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes; "
                                     "send it in smaller parts or upload it as a file.")
    if not body:
        return None
    if too_deep(body):
        return _refusal(400, "body", f"nested deeper than {MAX_DEPTH} levels")
    if b"\\u0000" in body and not mime.endswith("yaml"):
        try:
            where = nul_path(json.loads(body))
        except ValueError:
            return None  # not JSON: the operation's own parser says so
        if where is not None:
            return _refusal(400, where or "body", "contains a NUL character")
    return None


def plain_decimal(value):
    """For `BeforeValidator`: an amount written with its digits (`123.45`, a JSON number or a string),
    never in exponent form (`1E+15`, which hides how large it is)."""
    if isinstance(value, str) and "e" in value.lower() and value.strip().lower() not in ("nan", "inf", "infinity"):
        raise ValueError("write the amount with its digits (123.45), not in exponent form")
    if isinstance(value, Decimal) and value.is_finite() and value.as_tuple().exponent > 0:
        raise ValueError("write the amount with its digits (123.45), not in exponent form")
    return value


class ObjectIn(Schema):
    """An input schema that takes a JSON object only. ninja's Schema reads attributes from any
    object, so a body of `"stolen"` or `5` would otherwise pass as an object of defaults."""

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data):
        inner = data._obj if isinstance(data, DjangoGetter) else data
        if isinstance(inner, dict | Schema):
            return data
        raise ValueError("give a JSON object")


class ApiGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIXES):
            return self.get_response(request)
        response = check_request(request) or self.get_response(request)
        response["Cache-Control"] = "no-store"
        return response


class GuardedParser(Parser):
    """ninja's parser, refusing form fields (and query parameters) that hold NUL, naming them."""

    def parse_querydict(self, data, list_fields, request):
        for name in data:
            values = data.getlist(name)
            if "\x00" in name or any(isinstance(value, str) and "\x00" in value for value in values):
                field = name.replace("\x00", "")
                raise ServiceError(f"{field}: contains a NUL character", field=field)
        return super().parse_querydict(data, list_fields, request)

