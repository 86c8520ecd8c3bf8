"""TM Forum APIs of the customers app, each its own NinjaAPI with its own OpenAPI document.

Mounted in telora/urls.py under /tmf-api/<apiName>/v4/: TMF629 customerManagement, TMF666
accountManagement (billingAccount), TMF637 productInventory.
"""

from telora.api.main import make_api
from telora.api.tmf import ExactJSONRenderer

customer_api = make_api(title="Customer Management (TMF629)", version="4.0.0", urls_namespace="tmf-customer",
                        description="Telora customers in the TMF629 Customer shape.")
customer_api.add_router("", "telora.customers.tmf.customer.router")

account_api = make_api(title="Account Management (TMF666)", version="4.0.0", urls_namespace="tmf-account",
                       description="Telora billing accounts in the TMF666 BillingAccount shape.",
                       renderer=ExactJSONRenderer())
account_api.add_router("", "telora.customers.tmf.account.router")

product_api = make_api(title="Product Inventory (TMF637)", version="4.0.0", urls_namespace="tmf-product",
                       description="Telora subscriptions and their product instances in the TMF637 Product shape.")
product_api.add_router("", "telora.customers.tmf.product.router")
