"""Reads of customers and subscriptions shared by the GUI, the API, rating and billing.

Reads for people start from the principal's rights (`for_user`); `subscription_for_number` is for
trusted pipelines (rating) and takes a brand instead.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Lower

from telora.core import clock, rights
from telora.core.models import Brand
from telora.core.services.actors import PermissionDeniedError
from telora.customers.models import (
    Address,
    BillingAccount,
    Contact,
    Customer,
    CustomerFile,
    NumberAssignment,
    PriceAgreement,
    ProductInstance,
    Subscription,
)
from telora.customers.validation import normalise_text, query_digits
from telora.inventory.models import SimCard
from telora.inventory.validation import InvalidValue, clean_number

# ---- rights-scoped querysets ------------------------------------------------------------------


def customers_for_user(principal, action: str = "view") -> QuerySet[Customer]:
    return Customer.objects.for_user(principal, action).select_related("brand", "customer_group", "parent")


def accounts_for_user(principal, action: str = "view") -> QuerySet[BillingAccount]:
    return BillingAccount.objects.for_user(principal, action).select_related(
        "brand", "customer", "bill_cycle", "billing_group", "billing_address")


def subscriptions_for_user(principal, action: str = "view") -> QuerySet[Subscription]:
    return Subscription.objects.for_user(principal, action).select_related(
        "brand", "customer", "billing_account", "sim", "phone_number")


def addresses_for_user(principal, action: str = "view") -> QuerySet[Address]:
    return Address.objects.for_user(principal, action)


def price_agreements_for_user(principal, action: str = "view") -> QuerySet[PriceAgreement]:
    return PriceAgreement.objects.for_user(principal, action).order_by("-valid_from", "-id")


def contacts_for_user(principal, action: str = "view") -> QuerySet[Contact]:
    return Contact.objects.for_user(principal, action)


def files_for_user(principal, action: str = "view") -> QuerySet[CustomerFile]:
    return CustomerFile.objects.for_user(principal, action)


def open_customer_file(principal, row: CustomerFile):
    """The stored file, opened for reading, if the principal may view the customer; else PermissionDeniedError."""
    if not rights.has_perm(principal, row.brand_id, "customers.view"):
        raise PermissionDeniedError("You lack customers.view: the file stays closed.")
    return row.file.open("rb")


# ---- one customer, one subscription --------------------------------------------------------------


def products_on(subscription: Subscription, at: dt.datetime | None = None) -> list[ProductInstance]:
    """The product instances on the subscription at `at` (default now): plan first, then add-ons."""
    at = at or clock.now()
    rows = (subscription.products.filter(start_at__lte=at).filter(Q(end_at__isnull=True) | Q(end_at__gt=at))
            .select_related("product", "channel"))
    order = {"plan": 0, "addon": 1}
    return sorted(rows, key=lambda i: (order.get(i.kind, 2), i.start_at, i.pk))


def product_history(subscription: Subscription) -> QuerySet[ProductInstance]:
    """Every product the subscription ever had, newest first (one-time products included)."""
    return subscription.products.select_related("product", "channel").order_by("-start_at", "-id")


def number_history(subscription: Subscription) -> QuerySet[NumberAssignment]:
    return subscription.number_history.order_by("-valid_from")


def holders_of_number(brand: Brand, identifier: str) -> QuerySet[NumberAssignment]:
    """Who held a number when, newest first (for the number's page in the GUI)."""
    return (NumberAssignment.objects.filter(brand=brand, number=_digits(identifier))
            .select_related("subscription__customer").order_by("-valid_from"))


def customer_overview(customer: Customer, at: dt.datetime | None = None) -> dict:
    """Everything the customer screen shows, in a handful of queries."""
    at = at or clock.now()
    open_products = Prefetch("products", queryset=ProductInstance.objects.filter(start_at__lte=at).filter(
        Q(end_at__isnull=True) | Q(end_at__gt=at)).select_related("product").order_by("kind", "start_at"),
        to_attr="current_products")
    subscriptions = list(customer.subscriptions.select_related("billing_account", "sim", "phone_number")
                         .prefetch_related(open_products).order_by("status", "id"))
    return {
        "customer": customer,
        "contacts": list(customer.contacts.all()),
        "addresses": list(customer.addresses.all()),
        "accounts": list(customer.accounts.select_related("bill_cycle", "billing_group", "billing_address")),
        "subscriptions": subscriptions,
        "files": list(customer.files.all()),
        "children": list(customer.children.order_by("number")),
    }


def _digits(identifier: str) -> str:
    digits = re.sub(r"\D", "", identifier or "")
    return digits[2:] if digits.startswith("00") else digits


def subscription_for_number(brand: Brand | int, identifier: str, at: dt.datetime) -> Subscription | None:
    """The subscription that held `identifier` (E.164, '+' or '00' allowed) at moment `at`, or None.

    What rating asks for every record; one index probe on (number, brand, valid_from).
    """
    found = (NumberAssignment.objects.filter(brand=brand, number=_digits(identifier), valid_from__lte=at)
             .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=at)).select_related("subscription").first())
    return found.subscription if found is not None else None


# ---- global search ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerHit:
    customer: Customer
    matched: str  # number, msisdn, iccid, phone, email or name
    detail: str = ""


def _brand_ids(principal, brand) -> list[int] | None:
    """Brands to search: the active brand if the principal may view customers there; None means all."""
    held = rights.brands_with(principal, "customers.view")
    if brand is not None:
        brand_id = getattr(brand, "pk", brand)
        return [brand_id] if held is rights.ALL or brand_id in held else []
    return None if held is rights.ALL else list(held)


def _in_brands(queryset, brand_ids, path: str = "brand_id"):
    return queryset if brand_ids is None else queryset.filter(**{f"{path}__in": brand_ids})


def _numbers(query: str, digits: str, brand_ids) -> set[str]:
    """A typed number as the E.164 digits it may stand for (read in each searched brand's country)."""
    found = {digits, digits[2:] if digits.startswith("00") else digits}
    countries = _in_brands(Brand.objects.all(), brand_ids, "pk").values_list("country", flat=True).distinct()
    for country in countries[:20]:
        try:
            found.add(clean_number(query, country))
        except InvalidValue:
            pass
    return {n for n in found if 6 <= len(n) <= 15}


def search_customers(principal, brand, query: str, limit: int = 20) -> list[CustomerHit]:
    """Customers the principal may view (in `brand`, or all their brands when None) matching `query`.

    Exact keys first (customer number, MSISDN or other subscription identifier, ICCID, phone,
    e-mail prefix), then name fragments (every word of 3+ letters must occur). Each path is an index
    probe; none scans the table. Returns at most `limit` hits, one per customer.
    """
    query = (query or "").strip()
    brand_ids = _brand_ids(principal, brand)
    if len(query) < 2 or brand_ids == []:
        return []
    hits: dict[int, CustomerHit] = {}

    def add(customers, matched: str, detail=lambda c: "") -> None:
        for customer in customers:
            if len(hits) < limit and customer.pk not in hits:
                hits[customer.pk] = CustomerHit(customer, matched, detail(customer))

    base = _in_brands(Customer.objects.select_related("brand"), brand_ids)
    has_digit = any(ch.isdigit() for ch in query)
    if has_digit:  # customer numbers and identifiers always hold a digit; names need not ask
        add(base.filter(number__in={query, query.upper()})[:limit], "number")

    digits = query_digits(query)
    if digits:
        _search_numbers(query, digits, brand_ids, base, add, limit)
    elif has_digit and " " not in query and "@" not in query:  # a circuit id or other identifier, as typed
        subs = _in_brands(Subscription.objects.filter(identifier=query), brand_ids).select_related("customer__brand")
        add([s.customer for s in subs.order_by("status", "-id")[:limit]], "identifier", lambda c: query)
    if "@" in query:
        prefix = query.lower()
        for model in (Customer, Contact):
            # `email <> ''` lets PostgreSQL use the partial index on lower(email)
            matches = _in_brands(model.objects.exclude(email=""), brand_ids).annotate(email_l=Lower("email")).filter(
                email_l__startswith=prefix).order_by().values_list("customer_id" if model is Contact else "id", flat=True)
            add(base.filter(pk__in=list(matches[:limit])).order_by("name", "id"), "email", lambda c: c.email)
    words = normalise_text(query).split()
    if not digits and "@" not in query and any(len(w) >= 3 for w in words) and len(hits) < limit:
        add(_by_name(base, words, limit), "name")
    return list(hits.values())


NAME_CANDIDATES = 10  # per hit asked for: ranked in Python, so a common fragment never sorts thousands of rows


def _by_name(base, words: list[str], limit: int) -> list[Customer]:
    """Customers whose name holds every word, best first: the whole name, then names starting with the
    query, then names whose words start with the query's words, then the rest; by name within each.

    The trigram index finds the matches; only the first `limit * NAME_CANDIDATES` are read (three
    columns) and ranked, so "jan" among 20,000 Jansens answers as fast as a rare name.
    """
    rows = base.order_by()  # no ORDER BY: the first matches found are ranked here, not all of them sorted
    for word in words:
        rows = rows.filter(search_text__contains=word)
    phrase = " ".join(words)

    def rank(row) -> tuple:
        pk, text, name = row
        starts = all(any(part.startswith(word) for part in text.split()) for word in words)
        return text != phrase, not text.startswith(phrase), not starts, name, pk

    best = [row[0] for row in sorted(rows.values_list("pk", "search_text", "name")[:limit * NAME_CANDIDATES],
                                     key=rank)[:limit]]
    found = {c.pk: c for c in base.filter(pk__in=best)}
    return [found[pk] for pk in best if pk in found]


def _search_numbers(query, digits, brand_ids, base, add, limit) -> None:
    if 18 <= len(digits) <= 20 and digits.startswith("89"):
        sims = _in_brands(SimCard.objects.filter(iccid=digits), brand_ids).order_by().values_list("pk", flat=True)
        subs = (_in_brands(Subscription.objects.filter(sim_id__in=list(sims)), brand_ids)
                .select_related("customer__brand", "sim").order_by("status", "-id"))
        add([s.customer for s in subs[:limit]], "iccid", lambda c: f"ICCID {digits}")
    numbers = _numbers(query, digits, brand_ids)
    subs = list(_in_brands(Subscription.objects.filter(identifier__in=numbers), brand_ids)
                .select_related("customer__brand").order_by("status", "-id")[:limit])
    live = {s.customer_id: s for s in subs}
    add([s.customer for s in subs], "msisdn",
        lambda c: f"+{live[c.pk].identifier} ({live[c.pk].status})" if c.pk in live else "")
    add(base.filter(phone__in=numbers).order_by()[:limit], "phone", lambda c: f"+{c.phone}")
    contacts = (_in_brands(Contact.objects.filter(phone__in=numbers), brand_ids).order_by()
                .values_list("customer_id", flat=True))
    add(base.filter(pk__in=list(contacts[:limit])), "phone", lambda c: "contact phone")
