from telora.customers.models.accounts import BillingAccount
from telora.customers.models.agreements import PriceAgreement
from telora.customers.models.customers import Address, Contact, Customer, CustomerFile
from telora.customers.models.subscriptions import NumberAssignment, ProductInstance, Subscription

__all__ = [
    "Address", "BillingAccount", "Contact", "Customer", "CustomerFile", "NumberAssignment", "PriceAgreement",
    "ProductInstance",
    "Subscription",
]
