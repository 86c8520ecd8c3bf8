"""TMF635 Usage Management v4 and TMF654 Prepay Balance Management v4, each mounted in
telora/urls.py with its own OpenAPI document."""

from telora.api.main import make_api
from telora.api.tmf import ExactJSONRenderer

usage_api = make_api(
    title="Usage Management (TMF635)", version="4.0.0", urls_namespace="tmf-usage", renderer=ExactJSONRenderer(),
    description="Rated usage in the TMF635 shapes. Needs rating.view; a brand sees its own usage only.",
)
usage_api.add_router("", "telora.rating.tmf.usage.router")

balance_api = make_api(
    title="Prepay Balance Management (TMF654)", version="4.0.0", urls_namespace="tmf-prepay-balance",
    renderer=ExactJSONRenderer(),
    description="Prepaid balances in the TMF654 shapes: read balances, top up. Needs rating.view to read and "
                "rating.change to top up.",
)
balance_api.add_router("", "telora.rating.tmf.balance.router")
