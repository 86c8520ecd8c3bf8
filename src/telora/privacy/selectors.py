"""Reads of data protection: which customers a principal may export or erase, everything Telora holds
about one customer (the export), and a customer's consents (latest per purpose, and the history)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from telora.billing.models import Adjustment, ARLedgerEntry, Invoice
from telora.core import rights
from telora.core.models import AuditEvent
from telora.core.services.audit import _plain
from telora.customers.models import Customer, CustomerFile, NumberAssignment, ProductInstance, Subscription
from telora.privacy.models import Consent, Erasure
from telora.rating.models import BalanceEvent, FailedRecord, PrepaidBalance, PrepaidBalanceEntry, RatedUsage

CUSTOMER_FIELDS = ("id", "number", "kind", "status", "status_reason", "name", "first_name", "last_name",
                   "company_name", "id_type", "id_number", "birth_date", "registration_number", "vat_number",
                   "language", "email", "phone", "notes", "created_at", "updated_at", "closed_at")
CONTACT_FIELDS = ("id", "role", "first_name", "last_name", "email", "phone", "created_at", "updated_at")
ADDRESS_FIELDS = ("id", "roles", "street1", "street2", "postcode", "city", "state", "country", "created_at")
ACCOUNT_FIELDS = ("id", "number", "name", "status", "invoice_delivery", "invoice_email", "currency", "credit_limit",
                  "payment_method", "payment_method_ref", "billing_address_id", "created_at", "closed_at")
SUBSCRIPTION_FIELDS = ("id", "billing_account_id", "service_type", "identifier", "status", "status_reason",
                       "commitment_end", "created_at", "activated_at", "suspended_at", "terminated_at")
FILE_FIELDS = ("id", "name", "description", "content_type", "size", "sha256", "uploaded_by_label", "uploaded_at")
INVOICE_FIELDS = ("id", "number", "status", "credit_note", "period_start", "period_end", "issue_date", "due_date",
                  "currency", "net", "tax", "total", "pdf")
USAGE_FIELDS = ("id", "subscription_id", "service", "a_number", "b_number", "start_time", "usage", "quantity", "zone",
                "band", "charge", "currency", "balance_after")


def customers_for(principal, perm: str) -> QuerySet[Customer]:
    """Customers of the brands where the principal holds `perm` (privacy.export, privacy.erase...)."""
    brand_ids = rights.brands_with(principal, perm)
    rows = Customer.objects.select_related("brand")
    return rows if brand_ids is rights.ALL else rows.filter(brand_id__in=brand_ids)


def row(obj, fields) -> dict:
    return {name: _plain(getattr(obj, name)) for name in fields}


def rows(queryset, fields) -> list[dict]:
    return [row(obj, fields) for obj in queryset]


def numbers_of(customer: Customer) -> list[str]:
    """Every number the customer's subscriptions held (their usage and failed records are theirs)."""
    held = set(NumberAssignment.objects.filter(subscription__customer=customer).values_list("number", flat=True))
    held |= set(Subscription.objects.filter(customer=customer).exclude(identifier="")
                .values_list("identifier", flat=True))
    return sorted(held)


def audit_events_about(customer: Customer) -> QuerySet[AuditEvent]:
    """Audit events whose object is the customer or one of its parts (contacts, addresses, accounts,
    subscriptions with their products and numbers, files, consents)."""
    sub_ids = list(Subscription.objects.filter(customer=customer).values_list("pk", flat=True))
    parts = {
        "customers.customer": [customer.pk],
        "customers.contact": list(customer.contacts.values_list("pk", flat=True)),
        "customers.address": list(customer.addresses.values_list("pk", flat=True)),
        "customers.billingaccount": list(customer.accounts.values_list("pk", flat=True)),
        "customers.subscription": sub_ids,
        "customers.productinstance": list(ProductInstance.objects.filter(subscription_id__in=sub_ids)
                                          .values_list("pk", flat=True)),
        "customers.numberassignment": list(NumberAssignment.objects.filter(subscription_id__in=sub_ids)
                                           .values_list("pk", flat=True)),
        "customers.customerfile": list(CustomerFile.objects.filter(customer=customer).values_list("pk", flat=True)),
        "privacy.consent": list(Consent.objects.filter(customer=customer).values_list("pk", flat=True)),
    }
    condition = Q(pk__in=[])
    for object_type, ids in parts.items():
        if ids:
            condition |= Q(object_type=object_type, object_id__in=[str(i) for i in ids])
    return AuditEvent.objects.filter(condition, brand_id=customer.brand_id)


def current_consents(customer: Customer) -> list[Consent]:
    """The latest decision per purpose."""
    return list(Consent.objects.filter(customer=customer).order_by("purpose", "-at", "-id").distinct("purpose"))


def consent_history(customer: Customer) -> QuerySet[Consent]:
    return Consent.objects.filter(customer=customer).order_by("-at", "-id")


def customer_data(customer: Customer, *, on_progress=None) -> dict:
    """Everything held about the customer, as JSON-ready data (no SIM secrets; no other customer's rows)."""
    subscriptions = list(Subscription.objects.filter(customer=customer).select_related("sim", "phone_number")
                         .prefetch_related("products__product", "number_history").order_by("id"))
    accounts = list(customer.accounts.order_by("id"))
    sub_ids = [s.pk for s in subscriptions]
    numbers = numbers_of(customer)
    data = {
        "customer": row(customer, CUSTOMER_FIELDS) | {"brand": customer.brand.code},
        "contacts": rows(customer.contacts.order_by("id"), CONTACT_FIELDS),
        "addresses": rows(customer.addresses.order_by("id"), ADDRESS_FIELDS),
        "accounts": rows(accounts, ACCOUNT_FIELDS),
        "subscriptions": [row(s, SUBSCRIPTION_FIELDS) | {
            "sim": {"iccid": s.sim.iccid, "imsi": s.sim.imsi, "sim_type": s.sim.sim_type} if s.sim_id else None,
            "products": [{"code": p.product.code, "name": p.product.name, "kind": p.kind,
                          "start_at": _plain(p.start_at), "end_at": _plain(p.end_at), "end_reason": p.end_reason}
                         for p in s.products.all()],
            "numbers": [{"number": a.number, "valid_from": _plain(a.valid_from), "valid_to": _plain(a.valid_to)}
                        for a in s.number_history.all()],
        } for s in subscriptions],
        "files": rows(CustomerFile.objects.filter(customer=customer).order_by("id"), FILE_FIELDS),
        "invoices": [row(i, INVOICE_FIELDS) | {"account_id": i.account_id}
                     for i in Invoice.objects.filter(account__customer=customer).exclude(number=None).order_by("id")],
        "adjustments": [row(a, ("id", "account_id", "subscription_id", "amount", "reason", "created_at", "invoice_id"))
                        for a in Adjustment.objects.filter(account__customer=customer).order_by("id")],
        "receivables": [row(e, ("id", "account_id", "amount", "currency", "cause", "invoice_id", "reference", "at"))
                        for e in ARLedgerEntry.objects.filter(account__customer=customer).order_by("at", "id")],
        "prepaid_balances": [row(b, ("subscription_id", "balance", "updated_at"))
                             for b in PrepaidBalance.objects.filter(subscription_id__in=sub_ids)],
        "prepaid_entries": [row(e, ("subscription_id", "amount", "balance_after", "cause", "reference", "at"))
                            for e in PrepaidBalanceEntry.objects.filter(subscription_id__in=sub_ids).order_by("at", "id")],
        "balance_events": [row(e, ("subscription_id", "kind", "at", "balance", "threshold"))
                           for e in BalanceEvent.objects.filter(subscription_id__in=sub_ids).order_by("at", "id")],
        "consents": [row(c, ("purpose", "granted", "at", "channel", "source", "recorded_by"))
                     for c in consent_history(customer)],
        "audit_events": [row(e, ("at", "actor_label", "object_type", "object_id", "action", "changes", "message"))
                         for e in audit_events_about(customer).order_by("at", "id")],
        "erasure": row(Erasure.objects.get(customer=customer), ("at", "reason", "fields"))
        if Erasure.objects.filter(customer=customer).exists() else None,
    }
    usage = []
    for record in (RatedUsage.objects.filter(brand_id=customer.brand_id, subscription_id__in=sub_ids)
                   .order_by("start_time", "id").iterator(chunk_size=5000)):
        usage.append(row(record, USAGE_FIELDS))
        if on_progress and len(usage) % 5000 == 0:
            on_progress(5000)
    data["rated_usage"] = usage
    data["failed_records"] = [row(f, ("id", "source", "record_id", "reason", "detail", "original", "status",
                                      "created_at"))
                              for f in failed_records_of(customer, numbers)]
    return data


def failed_records_of(customer: Customer, numbers: list[str] | None = None) -> list[FailedRecord]:
    """Failed records of the customer's numbers, within the time they held them: a number passed on
    to someone else later (or held before) does not bring that person's records along. A record
    without a readable time counts only when no other customer ever held the number."""
    numbers = numbers_of(customer) if numbers is None else numbers
    windows: dict[str, list] = {}
    for a in NumberAssignment.objects.filter(subscription__customer=customer, number__in=numbers):
        windows.setdefault(a.number, []).append((a.valid_from, a.valid_to))
    shared = set(NumberAssignment.objects.filter(brand_id=customer.brand_id, number__in=numbers)
                 .exclude(subscription__customer=customer).values_list("number", flat=True))
    found = []
    for record in FailedRecord.objects.filter(brand_id=customer.brand_id, original__a_number__in=numbers).order_by("id"):
        number = str(record.original.get("a_number"))
        moment = _moment(record.original.get("start_time"))
        if moment is None:
            if number not in shared:
                found.append(record)
        elif number not in windows and number not in shared:
            found.append(record)  # an identifier with no number history (a fixed line's circuit)
        elif any(start <= moment and (end is None or moment < end) for start, end in windows.get(number, ())):
            found.append(record)
    return found


def _moment(value):
    import datetime as dt

    try:
        moment = dt.datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else None
