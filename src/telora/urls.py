from django.urls import include, path

from telora.api.main import api
from telora.billing.tmf import bill_api
from telora.catalog.tmf import catalog_api
from telora.customers.tmf import account_api, customer_api, product_api
from telora.privacy.tmf import privacy_api
from telora.rating.tmf import balance_api, usage_api

urlpatterns = [
    path("api/", api.urls),
    path("tmf-api/customerManagement/v4/", customer_api.urls),
    path("tmf-api/accountManagement/v4/", account_api.urls),
    path("tmf-api/productInventory/v4/", product_api.urls),
    path("tmf-api/productCatalogManagement/v4/", catalog_api.urls),
    path("tmf-api/usageManagement/v4/", usage_api.urls),
    path("tmf-api/prepayBalanceManagement/v4/", balance_api.urls),
    path("tmf-api/customerBillManagement/v4/", bill_api.urls),
    path("tmf-api/privacyManagement/v4/", privacy_api.urls),
    path("catalog/", include("telora.catalog.urls")),
    path("inventory/", include("telora.inventory.urls")),
    path("customers/", include("telora.customers.urls")),
    path("rating/", include("telora.rating.urls")),
    path("billing/", include("telora.billing.urls")),
    path("privacy/", include("telora.privacy.urls")),
    path("", include("telora.ui.auth_urls")),
    path("", include("telora.ui.urls")),
]
# MEDIA_ROOT is never served as static files, not even in debug mode: uploads, exports and
# logos go through views that check rights.
