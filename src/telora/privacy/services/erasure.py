"""Erasure: a customer's personal data anonymised in place, what the law makes us keep kept.

Kept: issued invoices exactly as issued (their number, amounts and document, name and address
included: bookkeeping law keeps them for years and an issued invoice never changes), the receivables
ledger and the prepaid ledger with their amounts, adjustments, rated usage amounts, and the
subscriptions' numbers and dates. Each kept invoice gets a `kept_on_erasure` audit event as its mark.
Anonymised or deleted: names, e-mail, phone, identity document, birth date, registration and VAT
numbers, notes, contacts (deleted), addresses (street, postcode and city replaced; country kept for
tax), account names and invoice e-mail, payment references, uploaded files (rows and bytes), the
B-numbers of rated usage and failed records (masked past their first four digits), consent sources,
and the personal values stored in audit events about the customer and its parts.

The erasure itself is a domain fact (an `Erasure` row: customer id, time, field names, counts) the
warehouse sync will consume later; its audit event names fields, never their old values. Erasing an
erased customer changes nothing and returns the first erasure.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Sum

from telora.billing.models import ARLedgerEntry, Invoice
from telora.core import rights
from telora.core.models import AuditEvent
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.core.services.audit import record_event
from telora.customers.models import Customer, CustomerFile, Subscription
from telora.customers.validation import normalise_text
from telora.privacy.constants import ERASED
from telora.privacy.models import Consent, Erasure
from telora.privacy.selectors import audit_events_about, failed_records_of
from telora.rating.models import PrepaidBalance

CUSTOMER_PERSONAL = ("name", "first_name", "last_name", "company_name", "id_type", "id_number", "birth_date",
                     "registration_number", "vat_number", "email", "phone", "notes")
ADDRESS_PERSONAL = ("street1", "street2", "postcode", "city", "state")
ACCOUNT_PERSONAL = ("name", "invoice_email", "payment_method_ref")
# Audit values under these keys are personal wherever they occur (contacts, addresses, files, accounts).
AUDIT_PERSONAL = frozenset(CUSTOMER_PERSONAL + ADDRESS_PERSONAL + ACCOUNT_PERSONAL + (
    "file", "description", "search_text", "source", "b_number", "status_reason", "reason"))


def masked(number: str) -> str:
    """A B-number with everything past its first four characters replaced: the country and range stay."""
    return number[:4] + "X" * max(len(number) - 4, 0)


def erasure_blockers(customer: Customer) -> list[str]:
    """Why the customer cannot be erased now (empty: it can): live subscriptions, an open balance."""
    reasons = []
    live = Subscription.objects.filter(customer=customer).exclude(status="terminated").count()
    if live:
        reasons.append(f"{live} subscription(s) are not terminated")
    open_ = (ARLedgerEntry.objects.filter(account__customer=customer).values("account__number", "currency")
             .annotate(balance=Sum("amount")).exclude(balance=0).order_by("account__number"))
    for line in open_:
        reasons.append(f"account {line['account__number']} has an open balance of {line['balance']} {line['currency']}")
    prepaid = (PrepaidBalance.objects.filter(subscription__customer=customer).exclude(balance=0)
               .aggregate(total=Sum("balance"))["total"])
    if prepaid:
        reasons.append(f"prepaid balances of {Decimal(prepaid).normalize()} remain")
    return reasons


def _personal_strings(customer: Customer) -> list[str]:
    """The customer's own values (at least 3 characters), to be found in audit texts and replaced."""
    values = [getattr(customer, f) for f in CUSTOMER_PERSONAL if f not in ("id_type", "birth_date")]
    for contact in customer.contacts.all():
        values += [contact.first_name, contact.last_name, contact.email, contact.phone, str(contact)]
    for address in customer.addresses.all():
        values += [getattr(address, f) for f in ADDRESS_PERSONAL] + [str(address)]
    for account in customer.accounts.all():
        values += [account.name, account.invoice_email, account.payment_method_ref]
    values += list(CustomerFile.objects.filter(customer=customer).values_list("name", flat=True))
    found = {str(v) for v in values if v and len(str(v)) >= 3}
    return sorted(found, key=len, reverse=True)  # the longest first, so "Ann de Vries" goes before "Ann"


def _scrub_text(text: str, strings: list[str]) -> str:
    for value in strings:
        if value in text:
            text = text.replace(value, ERASED)
    return text


def _scrub_value(value):
    return value if value in (None, "", []) else ERASED


def scrub_audit(customer: Customer, strings: list[str]) -> int:
    """Personal values in the audit events about the customer and its parts become "erased"; the field
    names, actions, times and actors stay (who changed what when remains answerable)."""
    changed = []
    for event in audit_events_about(customer).iterator(chunk_size=2000):
        changes = {key: ([_scrub_value(v) for v in pair] if key in AUDIT_PERSONAL and isinstance(pair, list)
                         else pair) for key, pair in (event.changes or {}).items()}
        repr_, message = _scrub_text(event.object_repr, strings), _scrub_text(event.message, strings)
        if (changes, repr_, message) != (event.changes, event.object_repr, event.message):
            event.changes, event.object_repr, event.message = changes, repr_, message
            changed.append(event)
    AuditEvent.objects.bulk_update(changed, ["changes", "object_repr", "message"], batch_size=1000)
    return len(changed)


def _mask_usage(customer: Customer) -> tuple[int, int]:
    sub_ids = list(Subscription.objects.filter(customer=customer).values_list("pk", flat=True))
    usage = 0
    if sub_ids:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE rating_ratedusage SET b_number = left(b_number, 4) || repeat('X', greatest(length(b_number) - 4, 0))"
                " WHERE brand_id = %s AND subscription_id = ANY(%s) AND b_number ~ '[^X]' AND length(b_number) > 4"
                " AND substr(b_number, 5) ~ '[^X]'",
                [customer.brand_id, sub_ids])
            usage = cursor.rowcount
    failed = 0
    for record in failed_records_of(customer):
        b_number = str(record.original.get("b_number") or "")
        if b_number and masked(b_number) != b_number:
            record.original = {**record.original, "b_number": masked(b_number)}
            record.save(update_fields=["original"])
            failed += 1
    return usage, failed


@transaction.atomic
def erase_customer(customer: Customer, *, actor: Actor, at: dt.datetime, reason: str = "request") -> Erasure:
    """Anonymise the customer (see the module docstring). Refused, naming why, while a subscription is
    not terminated or a balance is open."""
    if actor.principal is not None and not rights.has_perm(actor.principal, customer.brand, "privacy.erase"):
        raise PermissionDeniedError("You lack privacy.erase to erase a customer's data.")
    customer = Customer.objects.select_for_update().select_related("brand").get(pk=customer.pk)
    done = Erasure.objects.filter(customer=customer).first()
    if done is not None:
        return done
    blockers = erasure_blockers(customer)
    if blockers:
        raise ServiceError("customer: cannot erase while " + "; ".join(blockers), field="customer", code="conflict")
    strings = _personal_strings(customer)
    counts = {"audit_events": scrub_audit(customer, strings)}

    fields = [f for f in CUSTOMER_PERSONAL if getattr(customer, f) not in ("", None)]
    for name in CUSTOMER_PERSONAL:
        setattr(customer, name, None if name == "birth_date" else "")
    customer.name = f"{ERASED} {customer.number}"
    customer.search_text = normalise_text(customer.name)
    customer.status, customer.status_reason = "closed", ERASED
    customer.closed_at = customer.closed_at or at
    customer.updated_at = at
    customer.save()

    counts["contacts"] = customer.contacts.count()
    customer.contacts.all().delete()
    counts["addresses"] = customer.addresses.update(street1=ERASED, street2="", postcode="", city=ERASED, state="",
                                                    updated_at=at)
    for account in customer.accounts.all():
        account.name = f"{ERASED} {account.number}"
        account.invoice_email = account.payment_method_ref = ""
        account.status, account.closed_at, account.updated_at = "closed", account.closed_at or at, at
        account.save()
    files = list(CustomerFile.objects.filter(customer=customer))
    for row in files:
        storage, path = row.file.storage, row.file.name
        transaction.on_commit(lambda storage=storage, path=path: storage.delete(path))
    counts["files"] = CustomerFile.objects.filter(customer=customer).delete()[0]
    Subscription.objects.filter(customer=customer).exclude(status_reason="").update(status_reason="")
    counts["rated_usage_masked"], counts["failed_records_masked"] = _mask_usage(customer)
    Consent.objects.filter(customer=customer).exclude(source="").update(source="")

    kept = list(Invoice.objects.filter(account__customer=customer).exclude(number=None))
    for invoice in kept:
        record_event(actor=actor, at=at, action="kept_on_erasure", obj=invoice, brand=customer.brand,
                     message="Issued invoice kept as issued (bookkeeping law); its customer was anonymised.")
    counts["invoices_kept"] = len(kept)

    erasure = Erasure.objects.create(brand=customer.brand, customer=customer, at=at, actor_label=actor.label[:200],
                                     reason=reason, fields=fields, counts=counts)
    record_event(actor=actor, at=at, action="erase", obj=customer, brand=customer.brand,
                 new={"fields": fields, "reason": reason, **counts},
                 message="Personal data anonymised; invoices and ledgers kept.")
    return erasure


def start_erasure(customer: Customer, *, actor: Actor, at: dt.datetime):
    """Queue the erasure job (privacy.erase); refused at once, naming why, while something is open."""
    from telora.core.services.jobs import start_job

    if actor.principal is not None and not rights.has_perm(actor.principal, customer.brand, "privacy.erase"):
        raise PermissionDeniedError("You lack privacy.erase to erase a customer's data.")
    blockers = erasure_blockers(customer)
    if blockers and not Erasure.objects.filter(customer=customer).exists():
        raise ServiceError("customer: cannot erase while " + "; ".join(blockers), field="customer", code="conflict")
    return start_job("privacy.erase", actor=actor, at=at, brand=customer.brand, params={"customer_id": customer.pk},
                     title=f"Erasure of customer {customer.number}")
