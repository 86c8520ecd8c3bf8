"""/api/v1/config: the catalogue as code over HTTP (what `telora config apply|export` does).

POST /apply takes a catalogue YAML file, as the request body (Content-Type application/yaml or
text/yaml) or as the multipart field `file`. All of it is applied or nothing; a 400 lists every
error with its YAML path (`errors: [{field, path, message}]`, field = path). `check=true` is a
dry run: the same validation and writes, rolled back, so it reports exactly what would change.
Applying needs catalog.apply in the file's brand, a check catalog.view there; a file for a
brand that does not exist yet creates it, which only system administrators may do.

GET /export?brand=CODE&at=YYYY-MM-DD returns the brand's catalogue in effect on that day (default:
today in the brand's timezone) as YAML (Content-Type application/yaml), the same bytes the CLI
writes. It needs catalog.view in that brand (its owner: shared catalogues are read through TMF620).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Router, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.catalog import yamlio
from telora.catalog.export import export_yaml
from telora.catalog.schema.errors import CatalogError
from telora.catalog.services import apply_catalog
from telora.core import clock, rights
from telora.core.models import Brand
from telora.core.services.actors import Actor

router = Router(tags=["config"])

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")
YAML_BODY = {"schema": {"type": "string", "description": "The catalogue YAML (docs/catalog-yaml.md)"}}
APPLY_BODY = {"requestBody": {"required": True, "content": {
    "application/yaml": YAML_BODY, "text/yaml": YAML_BODY,
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "The catalogue YAML file"}}}},
}}}
# The answer is a YAML document whose top level is a mapping (docs/catalog-yaml.md): an object.
EXPORT_RESPONSE = {"responses": {"200": {"description": "The catalogue as YAML (docs/catalog-yaml.md)", "content": {
    "application/yaml": {"schema": {"type": "object", "required": ["brand"], "additionalProperties": True,
                                    "description": "The catalogue file: brand, products, rate plans, …"}}}}}}


class ChangeOut(Schema):
    action: str
    entity: str
    key: str
    details: list[str]


class ApplyOut(Schema):
    brand: str
    effective_from: dt.date
    applied: bool
    summary: str
    counts: dict[str, int]
    changes: list[ChangeOut]


def _yaml_text(request, file: UploadedFile | None) -> tuple[str, str]:
    """The uploaded file's text and name, or the request body's."""
    if file is not None:
        content, name = file.read(), file.name or "upload.yaml"
    elif request.content_type in YAML_TYPES:
        try:
            content, name = request.body, "request body"
        except RequestDataTooBig:
            raise HttpError(413, "The body is too large; upload the file as the multipart field file.") from None
    else:
        raise HttpError(415, "Send the catalogue as application/yaml (or text/yaml), or as the multipart field file.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogError([("", f"the file is not UTF-8 text (byte {exc.start})")]) from None
    if not text.strip():
        raise CatalogError([("", "the file is empty")])
    return text, name


@router.post("/apply", response={200: ApplyOut, **ERRORS}, openapi_extra=APPLY_BODY)
def apply(request, check: bool = False, effective_from: dt.date | None = None, file: File[UploadedFile] = None):
    """Apply a catalogue file (all or nothing), or with `check=true` report what it would change.

    `effective_from` (YYYY-MM-DD, default today in the brand's timezone) is the day new prices
    and rates start."""
    perm = "catalog.view" if check else "catalog.apply"
    require_perm(request, perm)
    text, name = _yaml_text(request, file)
    try:
        data = yamlio.load(text)
    except yamlio.YamlError as exc:
        raise CatalogError([("", f"not valid YAML: {exc}")]) from None
    result = apply_catalog(data, actor=Actor.from_request(request), at=clock.now(), effective_from=effective_from,
                           check=check, source=name, perm=perm)
    return {"brand": result.brand, "effective_from": result.effective_from, "applied": result.applied,
            "summary": result.summary(), "counts": result.counts(), "changes": result.changes}


@router.get("/export", response=ERRORS, openapi_extra=EXPORT_RESPONSE)
def export(request, brand: str, at: dt.date | None = None):
    """The brand's catalogue in effect on `at` (default: today in its timezone) as YAML."""
    require_perm(request, "catalog.view")
    reach = rights.brands_with(principal(request), "catalog.view")
    brands = Brand.objects.all() if reach is rights.ALL else Brand.objects.filter(pk__in=reach)
    owner = get_object_or_404(brands, code=brand)
    day = at or clock.today(owner)
    response = HttpResponse(export_yaml(owner, day), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{owner.code}-catalog-{day.isoformat()}.yaml"'
    return response
