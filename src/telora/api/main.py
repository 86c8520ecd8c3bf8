"""The REST API: Telora's own operations under /api/v1/…, OpenAPI at /api/openapi.json, docs at /api/docs.

Adding an app's endpoints
-------------------------
Write `src/telora/<app>/api.py` with a `router = Router(tags=["<app>"])`, then add one line to
`V1_ROUTERS` below, e.g. `("/v1/products", "telora.catalog.api.router")`. The import path is a
string, so this module imports no domain app until the URLs are built. Handlers follow the house
pattern: parse input (ninja Schemas), authorise (`auth.require_perm`, `for_user(auth.principal(request))`),
call one service with `Actor.from_request(request)` and `at=clock.now()`, render an output Schema.
Raise to fail (see `errors`); list endpoints use `paging.page`; a 400/401/403/404 response
schema is `errors.ERRORS`.

Every operation requires authentication (`auth.AUTH`: API key or session) unless it says
`auth=None`.

TM Forum APIs
-------------
TMF-shaped APIs live at `/tmf-api/<apiName>/v4/…` with their own OpenAPI document each, as TMF
conformance expects. Build one with `make_api`, which gives it the same auth, error shape and
offline docs page:

    # src/telora/api/tmf.py
    customer_api = make_api(title="Customer Management (TMF629)", version="4.0.0",
                            urls_namespace="tmf-customer")
    customer_api.add_router("", "telora.customers.tmf.router")

    # src/telora/urls.py
    path("tmf-api/customerManagement/v4/", customer_api.urls),

Each NinjaAPI needs its own `urls_namespace`; a router may be mounted on one API only once.
"""

from __future__ import annotations

from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI

from telora import __version__
from telora.api import errors
from telora.api.auth import AUTH
from telora.api.docs import OfflineSwagger, asset_urls
from telora.api.guard import GuardedParser
from telora.core import modules

# (prefix, router import path): Telora's own operations, one line per app.
V1_ROUTERS: list[tuple[str, str]] = [
    ("/v1", "telora.api.system.router"),
    ("/v1/brands", "telora.api.brands.router"),
    ("/v1/users", "telora.api.users.router"),
    ("/v1/api-keys", "telora.api.apikeys.router"),
    ("/v1/audit-events", "telora.api.audit.router"),
    ("/v1/customers", "telora.customers.api.customers.router"),
    ("/v1/customers", "telora.privacy.api.router"),
    ("/v1/subscriptions", "telora.customers.api.subscriptions.router"),
    ("/v1/jobs", "telora.api.jobs.router"),
    ("/v1/config", "telora.catalog.api.config.router"),
    ("/v1/inventory", "telora.inventory.api.sims.router"),
    ("/v1/inventory", "telora.inventory.api.numbers.router"),
    ("/v1/inventory/uploads", "telora.inventory.api.uploads.router"),
    ("/v1/usage", "telora.rating.api.usage.router"),
    ("/v1/usage/failed", "telora.rating.api.failed.router"),
    ("/v1/rating/settings", "telora.rating.api.settings.router"),
    ("/v1/billruns", "telora.billing.api.runs.router"),
    ("/v1/billing/adjustments", "telora.billing.api.adjustments.router"),
    ("/v1/migrations", "telora.migration.api.router"),
    ("/v1/webhooks", "telora.events.api.router"),
    ("/v1/workflows", "telora.workflows.api.router"),
    ("/v1/porting", "telora.porting.api.router"),
]


class TeloraAPI(NinjaAPI):
    """A NinjaAPI with Telora's auth, TM Forum error shape, offline docs and JSON 404s."""

    def set_default_exception_handlers(self) -> None:
        errors.install(self)

    @property
    def urls(self):
        patterns, app_name, namespace = super().urls
        root = [p for p in patterns if p.name == "api-root"]
        patterns = [p for p in patterns if p.name != "api-root"]
        # Unknown paths under the API answer in the API's error shape, not with an HTML page.
        not_found = csrf_exempt(lambda request, **kw: errors.error_response(self, request, 404, "No such endpoint."))
        # Any non-empty rest, newlines included (`…/content%0A` must not fall through to Django's HTML 404).
        anything = re_path(r"^[\s\S]+$", not_found, name="not-found")
        return patterns + asset_urls() + [anything] + root, app_name, namespace


def make_api(*, title: str, version: str, urls_namespace: str, description: str = "", **options) -> TeloraAPI:
    options.setdefault("auth", AUTH)
    options.setdefault("parser", GuardedParser())
    options.setdefault("docs", OfflineSwagger())
    return TeloraAPI(title=title, version=version, urls_namespace=urls_namespace, description=description, **options)


api = make_api(
    title="Telora API",
    version=__version__,
    urls_namespace="api",
    description=(
        "Telora's own operations. Authenticate with an API key (`Authorization: Bearer <token>` "
        "or `X-API-Key: <token>`) or a logged-in session (unsafe methods need `X-CSRFToken`). "
        "Lists take `offset` and `limit` and report `X-Total-Count` and `X-Result-Count`. "
        "Errors have the TM Forum Error shape."
    ),
)
for prefix, router in V1_ROUTERS:
    if modules.app_installed(router):  # a module the installation does not run has no routes
        api.add_router(prefix, router)
