"""Billing accounts: bill cycle, billing group, invoice delivery, credit limit, payment reference."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from telora.catalog.models import BillCycle, BillingGroup
from telora.catalog.selectors import catalogue_owners
from telora.core import clock
from telora.core.models import Sequence
from telora.core.money import MoneyError, to_decimal
from telora.core.services.actors import Actor
from telora.core.services.audit import record_event, snapshot
from telora.core.services.sequences import next_number
from telora.customers.constants import INVOICE_DELIVERIES, PAYMENT_METHODS
from telora.customers.models import Address, BillingAccount, Customer
from telora.customers.services.common import (
    ACCOUNT_FIELDS,
    catalog_row,
    clean_email,
    fail,
    no_pan,
    own,
    require,
    text,
)

EDITABLE = ("name", "bill_cycle", "billing_group", "invoice_delivery", "invoice_email", "credit_limit",
            "payment_method", "payment_method_ref", "billing_address", "status")


def _account_number(customer: Customer, at: dt.datetime) -> str:
    """The brand's "account" sequence when it has one configured, else <customer number>-<n>.

    The customer row is locked by the caller, so n is gap-free per customer.
    """
    if Sequence.objects.filter(brand=customer.brand, code="account").exists():
        return next_number(customer.brand, "account", at=at)
    count = BillingAccount.objects.filter(customer=customer).count()
    return f"{customer.number}-{count + 1}"


def _default_address(customer: Customer) -> Address | None:
    addresses = list(customer.addresses.order_by("id"))
    for role in ("billing", "legal"):
        for address in addresses:
            if role in address.roles:
                return address
    return None


def _default_cycle(customer: Customer, at: dt.datetime) -> BillCycle | None:
    """A new account without a cycle gets the brand's first cycle in effect (by code), if any."""
    day = clock.localtime(at, customer.brand).date()
    return BillCycle.objects.at(day).filter(brand_id__in=catalogue_owners(customer.brand)).order_by("code").first()


def _apply(account: BillingAccount, values: dict, customer: Customer, at: dt.datetime) -> None:
    brand = customer.brand
    merged = {name: getattr(account, name) for name in EDITABLE}
    merged.update(values)
    account.name = text(merged, "name", 200) or customer.name
    # Catalogue rows are checked when given: a cycle closed since keeps serving existing accounts.
    if "billing_group" in values:
        account.billing_group = catalog_row(BillingGroup, brand, values["billing_group"], "billing_group", at=at)
    if values.get("bill_cycle") is not None:
        account.bill_cycle = catalog_row(BillCycle, brand, values["bill_cycle"], "bill_cycle", at=at)
    elif "billing_group" in values and account.billing_group and account.billing_group.bill_cycle_id:
        account.bill_cycle = catalog_row(BillCycle, brand, account.billing_group.bill_cycle, "bill_cycle", at=at)
    elif "bill_cycle" in values:
        account.bill_cycle = None
    if account.bill_cycle is None and account.pk is None:
        account.bill_cycle = _default_cycle(customer, at)
    delivery = merged.get("invoice_delivery") or "email"
    if delivery not in INVOICE_DELIVERIES:
        raise fail("invoice_delivery", f"{delivery!r} is not one of {', '.join(INVOICE_DELIVERIES)}")
    account.invoice_delivery = delivery
    account.invoice_email = clean_email("invoice_email", merged.get("invoice_email") or "")
    account.billing_address = own(merged.get("billing_address"), brand, "billing_address", Address, customer=customer)
    if delivery == "email" and not account.invoice_email:
        account.invoice_email = customer.email
        if not account.invoice_email:
            raise fail("invoice_email", "invoices go by e-mail: give an address (the customer has none)")
    if account.billing_address is None:
        account.billing_address = _default_address(customer)
    if delivery == "print" and account.billing_address is None:
        raise fail("billing_address", "printed invoices need a postal address: add a billing address first")
    try:
        limit = to_decimal(merged.get("credit_limit") if merged.get("credit_limit") is not None else 0)
    except MoneyError as exc:
        raise fail("credit_limit", str(exc)) from None
    if not limit.is_finite() or limit < 0:
        raise fail("credit_limit", "must be zero or more")
    if limit != limit.quantize(Decimal("0.000001")) or limit >= Decimal(10) ** 12:
        raise fail("credit_limit", "has too many digits")
    account.credit_limit = limit
    method = merged.get("payment_method") or "invoice"
    if method not in PAYMENT_METHODS:
        raise fail("payment_method", f"{method!r} is not one of {', '.join(PAYMENT_METHODS)}")
    account.payment_method = method
    account.payment_method_ref = no_pan("payment_method_ref", text(merged, "payment_method_ref", 100))
    status = merged.get("status") or "active"
    if status not in ("active", "closed"):
        raise fail("status", f"{status!r} is not one of active, closed")
    account.status = status


@transaction.atomic
def create_billing_account(customer: Customer, *, actor: Actor, at: dt.datetime, **values) -> BillingAccount:
    """A billing account in the brand's currency.

    `values`: name (default: the customer's), bill_cycle and billing_group (objects, ids or codes;
    the group's cycle is the default), invoice_delivery ("email" or "print"), invoice_email
    (default: the customer's), credit_limit (Decimal or text, ≥ 0), payment_method, payment_method_ref
    (a provider's token or mandate id; card numbers are refused), billing_address (default: the
    customer's billing, else legal address).
    """
    require(actor, customer.brand)
    customer = Customer.objects.select_for_update().select_related("brand").get(pk=customer.pk)
    unknown = set(values) - set(EDITABLE) - {"status"}
    if unknown:
        raise fail(sorted(unknown)[0], "is not a billing account field")
    if customer.status == "closed":
        raise fail("customer", f"{customer.number} is closed", code="state")
    account = BillingAccount(brand=customer.brand, customer=customer, currency=customer.brand.currency,
                             created_at=at, updated_at=at)
    _apply(account, values, customer, at)
    account.number = _account_number(customer, at)
    account.save()
    record_event(actor=actor, at=at, action="create", obj=account, brand=customer.brand,
                 new={"customer": customer.pk, **snapshot(account, ACCOUNT_FIELDS)})
    return account


@transaction.atomic
def update_billing_account(account: BillingAccount, *, actor: Actor, at: dt.datetime, **values) -> BillingAccount:
    """Change any field `create_billing_account` takes, or close it (status="closed") once unused."""
    require(actor, account.brand)
    account = BillingAccount.objects.select_for_update().select_related("brand", "customer__brand").get(pk=account.pk)
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise fail(sorted(unknown)[0], "is not a billing account field you can change")
    old = snapshot(account, ACCOUNT_FIELDS)
    was = account.status
    _apply(account, values, account.customer, at)
    if account.status == "closed" and was != "closed":
        live = account.subscriptions.exclude(status="terminated").count()
        if live:
            raise fail("status", f"{live} subscription(s) are still billed on {account.number}", code="state")
        account.closed_at = at
    elif account.status == "active":
        account.closed_at = None
    account.updated_at = at
    account.save()
    record_event(actor=actor, at=at, action="update", obj=account, brand=account.brand, old=old,
                 new=snapshot(account, ACCOUNT_FIELDS))
    return account
