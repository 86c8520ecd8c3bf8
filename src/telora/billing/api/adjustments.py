"""/api/v1/billing/adjustments: CSR credits and debits, billed on the account's next invoice.

Listing needs billing.view, creating billing.adjust in the account's brand (and billing.adjust_large
from the brand's large-adjustment amount up). An account of another brand is a 400 naming `account`.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.billing.api.schemas import ADJUSTMENTS_BASE, AdjustmentFilter, AdjustmentIn, AdjustmentOut
from telora.billing.models import Adjustment
from telora.billing.services import create_adjustment
from telora.core import clock, rights
from telora.core.services.actors import Actor, ServiceError
from telora.customers.models import BillingAccount, Subscription
from telora.rating.api.schemas import ExactBody

router = Router(tags=["billing"])


def _adjustments(request):
    require_perm(request, "billing.view")
    return (Adjustment.objects.for_user(principal(request), "view")
            .select_related("brand", "account", "invoice"))


@router.get("", response={200: list[AdjustmentOut], **ERRORS}, summary="List adjustments")
def list_adjustments(request, response: HttpResponse, paging: Query[Paging], filters: Query[AdjustmentFilter]):
    """Newest first."""
    rows = _adjustments(request)
    if filters.brand:
        rows = rows.filter(brand__code__iexact=filters.brand)
    if filters.account:
        rows = rows.filter(account__number=filters.account)
    if filters.status:
        rows = rows.filter(invoice__isnull=filters.status == "pending")
    return page(rows.order_by("-id"), paging, response)


@router.get("/{int:adjustment_id}", response={200: AdjustmentOut, **ERRORS}, summary="One adjustment")
def get_adjustment(request, adjustment_id: int):
    return get_object_or_404(_adjustments(request), pk=adjustment_id)


@router.post("", response={201: AdjustmentOut, **ERRORS}, summary="Create an adjustment")
def create(request, response: HttpResponse, payload: ExactBody[AdjustmentIn]):
    """`amount` may be a JSON number or a string; it is read exactly (never through float)."""
    require_perm(request, "billing.adjust")
    who = principal(request)
    reach = rights.brands_with(who, "billing.view")
    accounts = BillingAccount.objects.select_related("brand")
    if reach is not rights.ALL:
        accounts = accounts.filter(brand_id__in=reach)
    account = accounts.filter(number=payload.account.strip()).first()
    if account is None:
        raise ServiceError(f"account: no billing account {payload.account!r}", field="account")
    subscription = None
    if payload.subscription is not None:
        subscription = Subscription.objects.filter(pk=payload.subscription, brand=account.brand).first()
        if subscription is None:
            raise ServiceError(f"subscription: no subscription {payload.subscription}", field="subscription")
    adjustment = create_adjustment(account, payload.amount, reason=payload.reason, actor=Actor.from_request(request),
                                   at=clock.now(), subscription=subscription, tax_code=payload.tax_code.strip())
    response["Location"] = f"{ADJUSTMENTS_BASE}/{adjustment.pk}"
    return Status(201, _adjustments(request).get(pk=adjustment.pk))
