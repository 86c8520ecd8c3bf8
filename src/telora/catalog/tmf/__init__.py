"""TMF620 Product Catalog Management v4 (read only), mounted in telora/urls.py at
/tmf-api/productCatalogManagement/v4/ with its own OpenAPI document.

Mapping (details in docs/api.md): a catalogue product is a `productOffering` and its own
`productSpecification` (same id); each dated price version of one of its charges is a
`productOfferingPrice`; a brand's catalogue is a `catalog` (id = the brand code); product kinds
(plan, addon, one_time, device) are the `category` resources. Amounts are exact JSON numbers.
"""

from telora.api.main import make_api
from telora.api.tmf import ExactJSONRenderer

catalog_api = make_api(
    title="Product Catalog Management (TMF620)", version="4.0.0", urls_namespace="tmf-catalog",
    renderer=ExactJSONRenderer(),
    description="Telora's product catalogue in the TMF620 shapes (read only). Needs catalog.view; a brand sees "
                "its own catalogue and those shared with it. Money values are exact decimal numbers.",
)
catalog_api.add_router("", "telora.catalog.tmf.offering.router")
catalog_api.add_router("", "telora.catalog.tmf.price.router")
catalog_api.add_router("", "telora.catalog.tmf.specification.router")
catalog_api.add_router("", "telora.catalog.tmf.catalog.router")
