"""TMF654 Prepay Balance Management v4: prepaid balances (bucket), top-ups (topupBalance) and
adjustments (adjustBalance).

- A `bucket` is the money balance of one prepaid subscription (its plan is a prepaid product, or
  it has a balance): its id is the subscription's id, `remainingValue` the balance now
  ({amount, units: currency}, an exact JSON number), `product` the subscription (TMF637),
  `logicalResource` its MSISDN, `partyAccount` its billing account, `relatedParty` the customer.
- `POST topupBalance` raises a balance: `amount` {amount > 0, units}, the bucket named by
  `bucket.id`, `product.id` (the same id) or `logicalResource.value` (the MSISDN), and a
  `reason`. 201 with the top-up and, in `impactedBucket`, the balance before and after it.
  Top-ups are the ledger's entries of cause topup (`GET topupBalance[/{id}]`).
- `POST adjustBalance` corrects a balance: `adjustType` ending in Credit (goodWillCredit...)
  adds `amount`, one ending in Debit (generalDebit...) takes it off.

Amounts in request bodies are read exactly (JSON numbers never pass through float). Reading
needs rating.view, top-ups and adjustments rating.change in the subscription's brand; another
brand's buckets are not found (404).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.http import Http404, HttpResponse
from ninja import Field, Query, Router, Status

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.api.tmf import TMF, ExactNumber, Ref, TmfSchema, key, select_fields, selectable, wanted_fields
from telora.core import clock, rights
from telora.core.money import minor_unit
from telora.core.services.actors import Actor, ServiceError
from telora.customers.models import Subscription
from telora.customers.tmf.common import ACCOUNT_BASE, PRODUCT_BASE, customer_ref
from telora.rating.api.schemas import ExactBody
from telora.rating.formats.common import normalise_number
from telora.rating.models import PrepaidBalance, PrepaidBalanceEntry
from telora.rating.services.balances import adjust, prepaid_subscriptions, top_up

router = Router(tags=["prepayBalance"])

BASE = "/tmf-api/prepayBalanceManagement/v4"
STATUS = {"pending": "pending", "active": "active", "suspended": "suspended", "terminated": "expired"}


class Quantity(TmfSchema):
    """TMF Quantity with an exact `amount` (written with its digits, read without float)."""

    amount: ExactNumber
    units: str | None = None


class LogicalResourceRef(TmfSchema):
    id: str | None = None
    href: str | None = None
    name: str | None = None
    value: str | None = None
    referredType: str | None = Field(None, alias="@referredType")


class BucketRef(TmfSchema):
    id: str
    href: str | None = None
    name: str | None = None
    usageType: str | None = None
    referredType: str | None = Field(None, alias="@referredType")


class BucketOut(TmfSchema):
    id: str
    href: str
    name: str | None = None
    description: str | None = None
    isShared: bool | None = None
    usageType: str | None = None
    status: str | None = None
    remainingValue: Quantity | None = None
    remainingValueName: str | None = None
    logicalResource: list[LogicalResourceRef] | None = None
    product: list[Ref] | None = None
    partyAccount: Ref | None = None
    relatedParty: list[Ref] | None = None
    type: str = Field("Bucket", alias="@type")


class ImpactedBucketItem(TmfSchema):
    itemType: str
    name: str
    amount: Quantity


class ImpactedBucket(TmfSchema):
    bucket: BucketRef
    amountBefore: Quantity
    amountAfter: Quantity
    item: list[ImpactedBucketItem]
    confirmationDate: dt.datetime | None = None


class BalanceActionOut(TmfSchema):
    id: str
    href: str
    status: str | None = None
    adjustType: str | None = None
    reason: str | None = None
    usageType: str | None = None
    amount: Quantity | None = None
    requestedDate: dt.datetime | None = None
    confirmationDate: dt.datetime | None = None
    bucket: BucketRef | None = None
    product: Ref | None = None
    relatedParty: list[Ref] | None = None
    impactedBucket: list[ImpactedBucket] | None = None
    type: str = Field(alias="@type")


class TopupOut(BalanceActionOut):
    type: str = Field("TopupBalance", alias="@type")


class AdjustOut(BalanceActionOut):
    type: str = Field("AdjustBalance", alias="@type")


BUCKET_FIELDS = selectable(BucketOut)
TOPUP_FIELDS = selectable(TopupOut)
ADJUST_FIELDS = selectable(AdjustOut)


class BucketFilter(TmfSchema):
    product_id: str | None = Field(None, alias="product.id", description="The subscription's id")
    relatedParty_id: str | None = Field(None, alias="relatedParty.id", description="The customer's id")
    logicalResource_value: str | None = Field(None, alias="logicalResource.value", description="The MSISDN")
    fields: str | None = Field(None, description="Attributes to return, comma-separated")


class ActionFilter(TmfSchema):
    bucket_id: str | None = Field(None, alias="bucket.id", description="The bucket (subscription) id")
    product_id: str | None = Field(None, alias="product.id", description="Same as bucket.id")
    relatedParty_id: str | None = Field(None, alias="relatedParty.id", description="The customer's id")
    fields: str | None = Field(None, description="Attributes to return, comma-separated")


class IdRef(TmfSchema):
    id: str = Field(max_length=20)


class BalanceActionIn(TmfSchema):
    amount: Quantity = Field(description="amount > 0 with at most 6 decimals; units the brand's currency")
    bucket: IdRef | None = None
    product: IdRef | None = None
    logicalResource: LogicalResourceRef | None = None
    reason: str | None = Field(None, max_length=200)


class AdjustIn(BalanceActionIn):
    adjustType: str = Field(max_length=60, description="Ending in Credit (goodWillCredit...) adds the amount, ending in Debit "
                                        "(generalDebit...) takes it off")


# ---- reading ----------------------------------------------------------------------------------


def _visible_subscriptions(request):
    require_perm(request, "rating.view")
    rows = Subscription.objects.select_related("brand", "customer", "billing_account")
    brands = rights.brands_with(principal(request), "rating.view")
    return rows if brands is rights.ALL else rows.filter(brand_id__in=brands)


def _key(value: str | None) -> int:
    return key(value)


def _bucket_ref(sub: Subscription) -> dict:
    return {"id": str(sub.pk), "href": f"{BASE}/bucket/{sub.pk}", "name": f"Prepaid balance {sub.identifier}".strip(),
            "usageType": sub.brand.currency, "@referredType": "Bucket"}


def _product_ref(sub: Subscription) -> dict:
    return {"id": str(sub.pk), "href": f"{PRODUCT_BASE}/{sub.pk}", "name": sub.identifier or None,
            "@referredType": "Product"}


def _quantity(amount: Decimal, currency: str) -> dict:
    return {"amount": amount.normalize() if amount else Decimal(0), "units": currency}


def render_bucket(sub: Subscription, balance: Decimal) -> dict:
    currency = sub.brand.currency
    shown = balance.quantize(Decimal(1).scaleb(-minor_unit(currency)), rounding=ROUND_HALF_UP)
    return {
        "id": str(sub.pk), "href": f"{BASE}/bucket/{sub.pk}", "@type": "Bucket",
        "name": f"Prepaid balance {sub.identifier}".strip(),
        "description": f"Prepaid credit of {sub.service_type} {sub.identifier}".strip(),
        "isShared": False, "usageType": currency, "status": STATUS.get(sub.status, sub.status),
        "remainingValue": _quantity(balance, currency), "remainingValueName": f"{shown} {currency}",
        "logicalResource": [{"id": sub.identifier, "name": "MSISDN", "value": sub.identifier,
                             "@referredType": "MSISDN"}] if sub.identifier else [],
        "product": [_product_ref(sub)],
        "partyAccount": {"id": str(sub.billing_account_id), "href": f"{ACCOUNT_BASE}/{sub.billing_account_id}",
                         "name": sub.billing_account.name, "@referredType": "BillingAccount"},
        "relatedParty": [customer_ref(sub.customer)],
    }


def _buckets(request):
    return _visible_subscriptions(request).filter(pk__in=prepaid_subscriptions(clock.now()).values("pk"))


def _balances(subs) -> dict[int, Decimal]:
    return dict(PrepaidBalance.objects.filter(subscription_id__in=[s.pk for s in subs])
                .values_list("subscription_id", "balance"))


@router.get("/bucket", response={200: list[BucketOut], **ERRORS}, **TMF)
def list_bucket(request, response: HttpResponse, paging: Query[Paging], filters: Query[BucketFilter]):
    """The prepaid balances the caller may view, one per prepaid subscription."""
    rows = _buckets(request)
    if filters.product_id:
        rows = rows.filter(pk=_key(filters.product_id))
    if filters.relatedParty_id:
        rows = rows.filter(customer_id=_key(filters.relatedParty_id))
    if filters.logicalResource_value:
        rows = rows.filter(identifier=_msisdn(filters.logicalResource_value))
    wanted = wanted_fields(filters.fields, BUCKET_FIELDS)
    subs = page(rows.order_by("id"), paging, response)
    balances = _balances(subs)
    return [select_fields(render_bucket(s, balances.get(s.pk, Decimal(0))), wanted) for s in subs]


@router.get("/bucket/{id}", response={200: BucketOut, **ERRORS}, **TMF)
def retrieve_bucket(request, id: str, fields: str | None = None):
    wanted = wanted_fields(fields, BUCKET_FIELDS)
    sub = _buckets(request).filter(pk=_key(id)).first()
    if sub is None:
        raise Http404(f"No bucket {id}.")
    return select_fields(render_bucket(sub, _balances([sub]).get(sub.pk, Decimal(0))), wanted)


# ---- top-ups and adjustments -------------------------------------------------------------------


def _split_reference(entry: PrepaidBalanceEntry) -> tuple[str, str]:
    """An adjustment's reference is "adjustType: reason" (as written by adjust_balance)."""
    head, sep, tail = entry.reference.partition(": ")
    if head.isalpha() and head.endswith(("Credit", "Debit")):
        return head, tail
    return ("credit" if entry.amount > 0 else "debit"), entry.reference


def render_action(entry: PrepaidBalanceEntry) -> dict:
    sub = entry.subscription
    currency = sub.brand.currency
    topup = entry.cause == "topup"
    kind = "topupBalance" if topup else "adjustBalance"
    adjust_type, reason = ("", entry.reference) if topup else _split_reference(entry)
    magnitude = abs(entry.amount)
    return {
        "id": str(entry.pk), "href": f"{BASE}/{kind}/{entry.pk}", "@type": "TopupBalance" if topup else "AdjustBalance",
        "status": "confirmed", "adjustType": adjust_type or None, "reason": reason or None, "usageType": currency,
        "amount": _quantity(magnitude, currency), "requestedDate": entry.at, "confirmationDate": entry.at,
        "bucket": _bucket_ref(sub), "product": _product_ref(sub), "relatedParty": [customer_ref(sub.customer)],
        "impactedBucket": [{
            "bucket": _bucket_ref(sub), "confirmationDate": entry.at,
            "amountBefore": _quantity(entry.balance_after - entry.amount, currency),
            "amountAfter": _quantity(entry.balance_after, currency),
            "item": [{"itemType": "credit" if entry.amount > 0 else "debit", "name": "topup" if topup else "adjustment",
                      "amount": _quantity(magnitude, currency)}],
        }],
    }


def _entries(request, causes):
    require_perm(request, "rating.view")
    rows = PrepaidBalanceEntry.objects.filter(cause__in=causes).select_related(
        "subscription__brand", "subscription__customer")
    brands = rights.brands_with(principal(request), "rating.view")
    return rows if brands is rights.ALL else rows.filter(subscription__brand_id__in=brands)


def _list_entries(request, response, paging, filters: ActionFilter, causes, allowed):
    rows = _entries(request, causes)
    bucket = filters.bucket_id or filters.product_id
    if bucket:
        rows = rows.filter(subscription_id=_key(bucket))
    if filters.relatedParty_id:
        rows = rows.filter(subscription__customer_id=_key(filters.relatedParty_id))
    wanted = wanted_fields(filters.fields, allowed)
    return [select_fields(render_action(e), wanted) for e in page(rows.order_by("-at", "-id"), paging, response)]


def _one_entry(request, id: str, causes, fields, allowed) -> dict:
    wanted = wanted_fields(fields, allowed)
    entry = _entries(request, causes).filter(pk=_key(id)).first()
    if entry is None:
        raise Http404(f"No balance action {id}.")
    return select_fields(render_action(entry), wanted)


def _msisdn(value: str) -> str:
    try:
        return normalise_number(value)
    except ValueError:
        return value.strip()


def _target(request, payload: BalanceActionIn) -> Subscription:
    """The subscription the action names (bucket.id, product.id or logicalResource.value), among
    the prepaid ones the caller may view; another brand's is not found."""
    ids = {name: ref.id.strip() for name, ref in (("bucket.id", payload.bucket), ("product.id", payload.product))
           if ref is not None}
    if len(set(ids.values())) > 1:
        raise ServiceError("product.id: names another subscription than bucket.id", field="product.id")
    rows = _buckets(request)
    if ids:
        field, value = next(iter(ids.items()))
        sub = rows.filter(pk=_key(value)).first()
    elif payload.logicalResource is not None and payload.logicalResource.value:
        field, value = "logicalResource.value", payload.logicalResource.value
        sub = rows.filter(identifier=_msisdn(value)).exclude(status="terminated").first()
    else:
        raise ServiceError("bucket.id: name the bucket (or product.id, or logicalResource.value)", field="bucket.id")
    if sub is None:
        raise Http404(f"No prepaid bucket {value} ({field}).")
    units = payload.amount.units
    if units and units.strip().upper() != sub.brand.currency:
        raise ServiceError(f"amount.units: balances of {sub.brand.code} are in {sub.brand.currency}",
                           field="amount.units")
    return sub


def _field_errors(call):
    """The service names `amount`; on the wire it is `amount.amount`."""
    try:
        return call()
    except ServiceError as exc:
        if exc.field == "amount" and exc.code == "invalid":
            raise ServiceError(exc.message.replace("amount:", "amount.amount:", 1), field="amount.amount") from None
        raise


@router.post("/topupBalance", response={201: TopupOut, **ERRORS}, **TMF)
def create_topup_balance(request, response: HttpResponse, payload: ExactBody[BalanceActionIn]):
    """Top up a prepaid balance now (status confirmed)."""
    require_perm(request, "rating.change")
    sub = _target(request, payload)
    entry = _field_errors(lambda: top_up(sub, payload.amount.amount, actor=Actor.from_request(request),
                                         at=clock.now(), reference=(payload.reason or "").strip()))
    response["Location"] = f"{BASE}/topupBalance/{entry.pk}"
    return Status(201, render_action(PrepaidBalanceEntry.objects.select_related(
        "subscription__brand", "subscription__customer").get(pk=entry.pk)))


@router.get("/topupBalance", response={200: list[TopupOut], **ERRORS}, **TMF)
def list_topup_balance(request, response: HttpResponse, paging: Query[Paging], filters: Query[ActionFilter]):
    """Top-ups from the prepaid ledger, newest first."""
    return _list_entries(request, response, paging, filters, ["topup"], TOPUP_FIELDS)


@router.get("/topupBalance/{id}", response={200: TopupOut, **ERRORS}, **TMF)
def retrieve_topup_balance(request, id: str, fields: str | None = None):
    return _one_entry(request, id, ["topup"], fields, TOPUP_FIELDS)


@router.post("/adjustBalance", response={201: AdjustOut, **ERRORS}, **TMF)
def create_adjust_balance(request, response: HttpResponse, payload: ExactBody[AdjustIn]):
    """Credit or debit a prepaid balance now, by `adjustType`."""
    require_perm(request, "rating.change")
    kind = payload.adjustType.strip()
    if not (kind.isalpha() and kind.endswith(("Credit", "Debit"))):
        raise ServiceError(f"adjustType: {kind!r} must end in Credit or Debit (goodWillCredit, generalDebit...)",
                           field="adjustType")
    sub = _target(request, payload)
    amount = payload.amount.amount
    if amount <= 0:
        raise ServiceError("amount.amount: must be more than 0 (adjustType says credit or debit)",
                           field="amount.amount")
    reason = (payload.reason or "").strip()
    entry = _field_errors(lambda: adjust(sub, amount if kind.endswith("Credit") else -amount,
                                         actor=Actor.from_request(request), at=clock.now(),
                                         reference=f"{kind}: {reason}" if reason else kind))
    response["Location"] = f"{BASE}/adjustBalance/{entry.pk}"
    return Status(201, render_action(PrepaidBalanceEntry.objects.select_related(
        "subscription__brand", "subscription__customer").get(pk=entry.pk)))


@router.get("/adjustBalance", response={200: list[AdjustOut], **ERRORS}, **TMF)
def list_adjust_balance(request, response: HttpResponse, paging: Query[Paging], filters: Query[ActionFilter]):
    """Adjustments from the prepaid ledger, newest first."""
    return _list_entries(request, response, paging, filters, ["adjustment"], ADJUST_FIELDS)


@router.get("/adjustBalance/{id}", response={200: AdjustOut, **ERRORS}, **TMF)
def retrieve_adjust_balance(request, id: str, fields: str | None = None):
    return _one_entry(request, id, ["adjustment"], fields, ADJUST_FIELDS)
