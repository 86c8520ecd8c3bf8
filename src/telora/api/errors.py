"""Every error the API returns has the TM Forum shape (the `Error` resource of TMF630/TMF6xx):

    {"@type": "Error", "code": "not_found", "reason": "Not found",
     "message": "No User matches the given query.", "status": "404"}

`code` is a stable machine word, `reason` a short phrase, `message` the detail a person can act
on, `status` the HTTP status as a string. A 400 also names the input at fault in `field`, and
lists every problem in `errors` (extension attributes; TMF clients ignore what they do not know).
A ServiceError carrying `errors` (pairs of path and message, as the catalogue's CatalogError
does) is listed whole; for such file input each entry also has `path`, the place in the file.

Handlers never build error responses themselves; they raise and `install()` maps:

| raised                                          | status |
|-------------------------------------------------|--------|
| ninja ValidationError (pydantic), Django ValidationError, ServiceError | 400 |
| ninja AuthenticationError (no or bad credentials)| 401 |
| PermissionDeniedError, ninja AuthorizationError  | 403 |
| Http404, Model.DoesNotExist                      | 404 |
| ServiceError(code="conflict"), IntegrityError    | 409 |
| ninja HttpError(status, message)                 | status |
| a multipart body that cannot be read, too many form fields | 400 |
| a body over DATA_UPLOAD_MAX_MEMORY_SIZE          | 413 |
| anything else                                    | 500 (logged; the body names the request id) |

A service that wants another status raises `ServiceError(..., code=...)` with a code from
`SERVICE_ERROR_STATUS`.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import Field, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ConfigDict

from telora.core.services.actors import PermissionDeniedError, ServiceError

logger = logging.getLogger("telora.api")

SERVICE_ERROR_STATUS = {"forbidden": 403, "not_found": 404, "conflict": 409, "duplicate": 409}
STATUS_CODES = {
    400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "too_large", 415: "unsupported_media_type", 429: "too_many_requests",
    500: "internal_error", 503: "unavailable",
}


class FieldError(Schema):
    field: str
    message: str
    path: str | None = Field(None, description="For an uploaded file (catalogue YAML): where in the file; "
                                               "the same as field")


def _tmf_property_names(schema: dict) -> None:
    """Document `type` under its wire name `@type`, whichever way ninja renders the schema."""
    schema["properties"] = {("@type" if k == "type" else k): v for k, v in schema["properties"].items()}


class Error(Schema):
    """The TM Forum Error resource (with Telora's `field` and `errors` on a 400)."""

    model_config = ConfigDict(json_schema_extra=_tmf_property_names)

    type: str = Field("Error", alias="@type")
    code: str
    reason: str
    message: str = ""
    status: str
    field: str | None = None
    errors: list[FieldError] | None = None


# For `response={200: Out, **ERRORS}` so the OpenAPI document lists the error shape.
ERRORS = {400: Error, 401: Error, 403: Error, 404: Error}


def error_body(status: int, message: str = "", *, code: str | None = None, reason: str | None = None,
               errors: list[dict] | None = None) -> dict:
    body = {
        "@type": "Error",
        "code": code or STATUS_CODES.get(status, "error"),
        "reason": reason or HTTPStatus(status).phrase,
        "message": message,
        "status": str(status),
    }
    if errors:
        body["field"] = errors[0]["field"]
        body["errors"] = errors
    return body


def error_response(api, request, status: int, message: str = "", **kw) -> HttpResponse:
    response = api.create_response(request, error_body(status, message, **kw), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="telora"'
    return response


def invalid_response(api, request, errors: list[dict]) -> HttpResponse:
    message = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors)
    return error_response(api, request, 400, message, reason="Invalid input", errors=errors)


def _field_name(loc) -> str:
    """("body", "payload", "grants", 0, "brand") -> "grants[0].brand"; ("query", "limit") -> "limit"."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[2:]  # the source and the handler's argument name
    elif parts and parts[0] in ("query", "path", "header", "cookie", "form", "file"):
        parts = parts[1:]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def _pydantic_errors(exc: NinjaValidationError) -> list[dict]:
    errors = []
    for err in exc.errors:
        message = str(err.get("msg", "invalid"))
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        errors.append({"field": _field_name(err.get("loc", ())), "message": message})
    return errors or [{"field": "", "message": "invalid input"}]


def _django_errors(exc: DjangoValidationError) -> list[dict]:
    if hasattr(exc, "error_dict"):
        return [{"field": "" if name == "__all__" else name, "message": msg}
                for name, msgs in exc.message_dict.items() for msg in msgs]
    return [{"field": "", "message": msg} for msg in exc.messages]


def _service_error(api, request, exc: ServiceError) -> HttpResponse:
    status = SERVICE_ERROR_STATUS.get(exc.code, 400)
    listed = getattr(exc, "errors", None)
    if status == 400 and listed:
        return invalid_response(api, request, [{"field": path, "path": path, "message": message}
                                               for path, message in listed])
    if status == 400:
        message = exc.message
        if exc.field and message.startswith(f"{exc.field}: "):
            message = message[len(exc.field) + 2:]
        return invalid_response(api, request, [{"field": exc.field or "", "message": message}])
    return error_response(api, request, status, exc.message, code=exc.code)


def _unexpected(api, request, exc: Exception) -> HttpResponse:
    request_id = getattr(request, "request_id", "")
    logger.exception("API error in %s %s (request %s)", request.method, request.path, request_id)
    return error_response(api, request, 500, f"Something went wrong on our side; request id {request_id}.")


def install(api) -> None:
    """Register Telora's exception handlers on a NinjaAPI (replacing ninja's defaults)."""
    handlers = {
        Exception: lambda r, e: _unexpected(api, r, e),
        NinjaValidationError: lambda r, e: invalid_response(api, r, _pydantic_errors(e)),
        DjangoValidationError: lambda r, e: invalid_response(api, r, _django_errors(e)),
        ServiceError: lambda r, e: _service_error(api, r, e),
        PermissionDeniedError: lambda r, e: error_response(api, r, 403, e.message),
        AuthenticationError: lambda r, e: error_response(
            api, r, 401, "Give a valid API key (Authorization: Bearer <token> or X-API-Key) or log in."),
        HttpError: lambda r, e: error_response(api, r, e.status_code, e.message),
        Throttled: lambda r, e: error_response(api, r, 429, e.message),
        MultiPartParserError: lambda r, e: invalid_response(
            api, r, [{"field": "body", "message": f"the multipart form cannot be read ({e})"}]),
        SuspiciousOperation: lambda r, e: invalid_response(api, r, [{"field": "body", "message": str(e)}]),
        RequestDataTooBig: lambda r, e: error_response(
            api, r, 413, f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes; send it in "
                         "smaller parts or upload it as a file."),
        Http404: lambda r, e: error_response(api, r, 404, str(e) or "Not found."),
        ObjectDoesNotExist: lambda r, e: error_response(api, r, 404, str(e) or "Not found."),
        IntegrityError: lambda r, e: error_response(
            api, r, 409, "The change conflicts with existing data; reload and try again."),
    }
    for exc_class, handler in handlers.items():
        api.add_exception_handler(exc_class, handler)
