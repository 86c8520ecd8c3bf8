"""The size cap on request bodies (uploads above all): a body longer than TELORA_UPLOAD_MAX_BYTES
is answered 413 from its Content-Length, before a byte of it is read or stored.

Django reads a body only as far as its Content-Length (a body without one is read as empty), so
the header is what bounds it. API paths get the TM Forum error shape naming `file`; screens a
short page saying the limit. Where a file under the cap is too large to read in the request,
the endpoint keeps it and hands it to a job (rating's usage files; inventory's `background`).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse

API_PREFIXES = ("/api/", "/tmf-api/")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size} bytes"


def too_large(request, length: int, most: int) -> HttpResponse:
    message = (f"file: the request body is {_megabytes(length)}; at most {_megabytes(most)} may be sent "
               "(TELORA_UPLOAD_MAX_BYTES)")
    if request.path.startswith(API_PREFIXES):
        from telora.api.errors import error_body

        body = error_body(413, message, code="too_large", errors=[{"field": "file", "message": message[6:]}])
        return HttpResponse(json.dumps(body), status=413, content_type="application/json")
    return HttpResponse(f"<!doctype html><title>Too large</title><h1>Too large</h1><p>{message}</p>", status=413,
                        content_type="text/html; charset=utf-8")


class UploadLimitMiddleware:
    """413 for a body over TELORA_UPLOAD_MAX_BYTES, judged by its Content-Length."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        most = getattr(settings, "TELORA_UPLOAD_MAX_BYTES", None)
        if most:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > most:
                return too_large(request, length, most)
        return self.get_response(request)
