"""The Swagger docs page, working offline.

ninja renders its docs page with swagger-ui from a CDN (jsdelivr) unless "ninja" is in
INSTALLED_APPS. Telora machines may have no internet access, so the page here uses the
swagger-ui files ninja ships in its own package (`ninja/static/ninja/`) and serves them under
`<api>/docs/assets/<name>`; they follow the installed ninja version, nothing to vendor by hand.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

import ninja
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import path, reverse
from ninja.openapi.docs import Swagger, _csrf_needed

NINJA_STATIC = Path(ninja.__file__).parent / "static" / "ninja"
ASSETS = {
    "css": "swagger-ui.css",
    "bundle": "swagger-ui-bundle.js",
    "init": "swagger-ui-init.js",
    "favicon": "favicon.svg",
}
ASSET_MAX_AGE = 24 * 3600


class OfflineSwagger(Swagger):
    def render_page(self, request, api, **kwargs):
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        assets = {
            role: reverse(f"{api.urls_namespace}:docs-asset", kwargs={**kwargs, "name": name})
            + f"?v={ninja.__version__}"
            for role, name in ASSETS.items()
        }
        context = {
            "swagger_settings": json.dumps(self.settings, indent=1),
            "api": api,
            "add_csrf": _csrf_needed(api),
            "assets": assets,
        }
        return render(request, "api/swagger.html", context)


def docs_asset(request, name: str, **kwargs):
    if name not in ASSETS.values():
        raise Http404(name)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse((NINJA_STATIC / name).open("rb"), content_type=content_type)
    response["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE}"
    return response


def asset_urls() -> list:
    return [path("docs/assets/<str:name>", docs_asset, name="docs-asset")]
