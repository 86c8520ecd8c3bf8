"""TMF678 Customer Bill Management v4, mounted in telora/urls.py with its own OpenAPI document."""

from telora.api.main import make_api
from telora.api.tmf import ExactJSONRenderer

bill_api = make_api(
    title="Customer Bill Management (TMF678)", version="4.0.0", urls_namespace="tmf-customer-bill",
    renderer=ExactJSONRenderer(),
    description="Invoices as TMF678 customer bills (with a PDF link) and their lines as applied customer "
                "billing rates. Needs billing.view; a brand sees its own bills only.",
)
bill_api.add_router("", "telora.billing.tmf.bills.router")
