from django.urls import include, path

from telora.api.main import api
from telora.billing.tmf import bill_api
from telora.catalog.tmf import catalog_api
from telora.core.modules import app_installed
from telora.customers.tmf import account_api, customer_api, product_api
from telora.events.api import mount_hub
from telora.letters.tmf import communication_api
from telora.orders.tmf import ordering_api
from telora.privacy.tmf import privacy_api
from telora.provisioning.tmf import service_api
from telora.rating.tmf import balance_api, usage_api

# The TM Forum APIs of a module the installation does not run (TELORA_MODULES) are not mounted.
TMF_APIS = [
    ("tmf-api/customerManagement/v4/", "telora.customers", customer_api),
    ("tmf-api/accountManagement/v4/", "telora.customers", account_api),
    ("tmf-api/productInventory/v4/", "telora.customers", product_api),
    ("tmf-api/productCatalogManagement/v4/", "telora.catalog", catalog_api),
    ("tmf-api/usageManagement/v4/", "telora.rating", usage_api),
    ("tmf-api/prepayBalanceManagement/v4/", "telora.rating", balance_api),
    ("tmf-api/customerBillManagement/v4/", "telora.billing", bill_api),
    ("tmf-api/privacyManagement/v4/", "telora.privacy", privacy_api),
    ("tmf-api/communicationManagement/v4/", "telora.letters", communication_api),
    ("tmf-api/productOrderingManagement/v4/", "telora.orders", ordering_api),
    ("tmf-api/serviceActivationAndConfiguration/v4/", "telora.provisioning", service_api),
]
# Every TM Forum API offers the TMF630 hub (POST/GET/DELETE …/hub) for event notifications.
for _route, _app, _tmf_api in TMF_APIS:
    mount_hub(_tmf_api, _route.split("/")[1])

urlpatterns = [
    path("api/", api.urls),
    *(path(route, tmf_api.urls) for route, app, tmf_api in TMF_APIS if app_installed(app)),
    # The screens are mounted always (other screens link to them); core.modules.ModulesMiddleware
    # answers 404 for those of a module the installation does not run.
    path("catalog/", include("telora.catalog.urls")),
    path("inventory/", include("telora.inventory.urls")),
    path("customers/", include("telora.customers.urls")),
    path("rating/", include("telora.rating.urls")),
    path("billing/", include("telora.billing.urls")),
    path("privacy/", include("telora.privacy.urls")),
    path("letters/", include("telora.letters.urls")),
    path("events/", include("telora.events.urls")),
    path("workflows/", include("telora.workflows.urls")),
    path("orders/", include("telora.orders.urls")),
    path("provisioning/", include("telora.provisioning.urls")),
    path("porting/", include("telora.porting.urls")),
    path("", include("telora.ui.auth_urls")),
    path("", include("telora.ui.urls")),
]
# MEDIA_ROOT is never served as static files, not even in debug mode: uploads, exports and
# logos go through views that check rights.
