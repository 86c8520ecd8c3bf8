"""Every write to customers, accounts and subscriptions goes through these functions.

Each takes keyword-only `actor` and `at`, runs in one transaction, checks `customers.change` in
the brand (actors without a user or API key are platform jobs), and records AuditEvents with the
old and new values. A refusal raises ServiceError naming the field at fault.
"""

from telora.customers.services.accounts import create_billing_account, update_billing_account
from telora.customers.services.agreements import add_price_agreement, end_price_agreement
from telora.customers.services.customers import (
    add_address,
    add_contact,
    create_customer,
    remove_address,
    remove_contact,
    update_address,
    update_contact,
    update_customer,
)
from telora.customers.services.files import delete_customer_file, upload_customer_file
from telora.customers.services.lifecycle import (
    add_addon,
    add_one_time,
    change_plan,
    remove_addon,
    resume_subscription,
    suspend_subscription,
    terminate_subscription,
)
from telora.customers.services.subscriptions import (
    activate_subscription,
    change_number,
    create_subscription,
    discard_subscription,
    reservation_reference,
    swap_sim,
    update_subscription,
)

__all__ = [
    "activate_subscription", "add_addon", "add_address", "add_contact", "add_one_time", "add_price_agreement",
    "change_number", "change_plan",
    "create_billing_account", "create_customer", "create_subscription", "delete_customer_file", "discard_subscription", "end_price_agreement", "remove_addon",
    "remove_address", "remove_contact", "reservation_reference", "resume_subscription", "suspend_subscription",
    "swap_sim", "terminate_subscription", "update_address", "update_billing_account", "update_contact",
    "update_customer", "update_subscription", "upload_customer_file",
]
