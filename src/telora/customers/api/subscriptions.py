"""Subscriptions: sell one (with products, SIM and number), then change plan, add-ons, suspend, resume,
terminate. Reads need customers.view, writes customers.change; another brand's subscription is a 404."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Query, Router, Status

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.paging import Paging, page
from telora.core import clock
from telora.core.services.actors import Actor
from telora.customers import documents, services
from telora.customers.api.schemas import (
    EffectiveAt,
    PlanIn,
    ProductIn,
    ProductInstanceOut,
    ReasonIn,
    SubscriptionCreate,
    SubscriptionFilter,
    SubscriptionOut,
    SubscriptionPatch,
    SwapSimIn,
)
from telora.customers.models import ProductInstance
from telora.customers.selectors import customers_for_user, subscriptions_for_user
from telora.customers.services.dating import dated_change
from telora.customers.validation import query_digits

router = Router(tags=["subscriptions"])


def _subscriptions(request):
    instances = Prefetch("products", queryset=ProductInstance.objects.select_related("product", "channel"))
    return (subscriptions_for_user(principal(request)).select_related("billing_account", "channel")
            .prefetch_related(instances))


def _get(request, subscription_id: int):
    return get_object_or_404(_subscriptions(request), pk=subscription_id)


def _act(request):
    require_perm(request, "customers.change")
    return {"actor": Actor.from_request(request), "at": clock.now()}


def _dated(request, target, effective_at, change):
    """`change(actor=, at=)` at the payload's effective moment (now when none); see services.dating."""
    require_perm(request, "customers.change")
    actor = Actor.from_request(request)
    return dated_change(target, effective_at, lambda at: change(actor=actor, at=at), actor=actor, now=clock.now())


@router.get("", response={200: list[SubscriptionOut], **ERRORS})
def list_subscriptions(request, response: HttpResponse, paging: Query[Paging], filters: Query[SubscriptionFilter]):
    brands = require_perm(request, "customers.view")
    rows = subscriptions_for_user(principal(request))
    if filters.customer is not None:
        rows = rows.filter(customer_id=filters.customer)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.service_type:
        rows = rows.filter(service_type=filters.service_type)
    if filters.identifier:
        digits = query_digits(filters.identifier)
        candidates = {filters.identifier.strip(), digits, digits[2:] if digits.startswith("00") else digits} - {""}
        rows = rows.filter(identifier__in=candidates)
    if filters.brand:
        rows = rows.filter(brand__code=filters.brand)
    return documents.subscriptions(brands, page(rows.order_by("id").values_list("pk", flat=True), paging, response))


@router.get("/{int:subscription_id}", response={200: SubscriptionOut, **ERRORS})
def get_subscription(request, subscription_id: int):
    found = documents.subscriptions(require_perm(request, "customers.view"), [subscription_id])
    if not found:
        raise Http404("No such subscription.")
    return found[0]


@router.post("", response={201: SubscriptionOut, **ERRORS})
def post_subscription(request, response: HttpResponse, payload: SubscriptionCreate):
    """Sell a subscription: products from the catalogue, SIM and number from the inventory (chosen or next free)."""
    require_perm(request, "customers.change")
    customer = get_object_or_404(customers_for_user(principal(request)), pk=payload.customer)
    values = payload.model_dump()
    values.pop("customer")
    effective_at = values.pop("effective_at")
    subscription = _dated(request, customer, effective_at,
                          lambda **context: services.create_subscription(customer, **context, **values,
                                                                         interface="api"))
    response["Location"] = reverse("api:get_subscription", kwargs={"subscription_id": subscription.pk})
    return Status(201, _get(request, subscription.pk))


@router.patch("/{int:subscription_id}", response={200: SubscriptionOut, **ERRORS})
def patch_subscription(request, subscription_id: int, payload: SubscriptionPatch):
    """Another billing account of the customer, or other addresses of the customer."""
    context = _act(request)
    values = payload.model_dump(exclude_unset=True)
    if values:
        services.update_subscription(_get(request, subscription_id), **context, **values)
    return _get(request, subscription_id)


@router.post("/{int:subscription_id}/activate", response={200: SubscriptionOut, **ERRORS})
def activate(request, subscription_id: int):
    services.activate_subscription(_get(request, subscription_id), **_act(request))
    return _get(request, subscription_id)


@router.post("/{int:subscription_id}/change-plan", response={200: SubscriptionOut, **ERRORS})
def change_plan(request, subscription_id: int, payload: PlanIn):
    """End the current plan and start the new one at the same moment (now, or `effective_at`)."""
    subscription = _get(request, subscription_id)
    _dated(request, subscription, payload.effective_at,
           lambda **context: services.change_plan(subscription, payload.plan, channel=payload.channel,
                                                  interface="api", **context))
    return _get(request, subscription_id)


@router.post("/{int:subscription_id}/addons", response={201: ProductInstanceOut, **ERRORS})
def add_addon(request, subscription_id: int, payload: ProductIn):
    """Add an add-on from now (or `effective_at`); the answer is its instance (its id removes it again)."""
    subscription = _get(request, subscription_id)
    return Status(201, _dated(request, subscription, payload.effective_at,
                              lambda **context: services.add_addon(subscription, payload.product,
                                                                   channel=payload.channel, interface="api",
                                                                   **context)))


@router.delete("/{int:subscription_id}/addons/{int:instance_id}", response={200: SubscriptionOut, **ERRORS})
def remove_addon(request, subscription_id: int, instance_id: int, when: Query[EffectiveAt]):
    """End an add-on now or at `?effective_at=` (it stays in the history with its end)."""
    subscription = _get(request, subscription_id)
    _dated(request, subscription, when.effective_at,
           lambda **context: services.remove_addon(subscription, instance_id, **context))
    return _get(request, subscription_id)


@router.post("/{int:subscription_id}/one-time", response={201: ProductInstanceOut, **ERRORS})
def add_one_time(request, subscription_id: int, payload: ProductIn):
    """Sell a one-time product or device on the subscription now (or `effective_at`)."""
    subscription = _get(request, subscription_id)
    return Status(201, _dated(request, subscription, payload.effective_at,
                              lambda **context: services.add_one_time(subscription, payload.product,
                                                                      channel=payload.channel, interface="api",
                                                                      **context)))


@router.post("/{int:subscription_id}/suspend", response={200: SubscriptionOut, **ERRORS})
def suspend(request, subscription_id: int, payload: ReasonIn):
    subscription = _get(request, subscription_id)
    _dated(request, subscription, payload.effective_at,
           lambda **context: services.suspend_subscription(subscription, reason=payload.reason, **context))
    return _get(request, subscription_id)


@router.post("/{int:subscription_id}/resume", response={200: SubscriptionOut, **ERRORS})
def resume(request, subscription_id: int, payload: ReasonIn):
    subscription = _get(request, subscription_id)
    _dated(request, subscription, payload.effective_at,
           lambda **context: services.resume_subscription(subscription, reason=payload.reason, **context))
    return _get(request, subscription_id)


@router.post("/{int:subscription_id}/terminate", response={200: SubscriptionOut, **ERRORS})
def terminate(request, subscription_id: int, payload: ReasonIn):
    """End products and the number now (or `effective_at`); the number goes to quarantine, a used SIM is retired."""
    subscription = _get(request, subscription_id)
    _dated(request, subscription, payload.effective_at,
           lambda **context: services.terminate_subscription(subscription, reason=payload.reason, **context))
    return _get(request, subscription_id)


@router.post("/{int:subscription_id}/swap-sim", response={200: SubscriptionOut, **ERRORS})
def swap_sim(request, subscription_id: int, payload: SwapSimIn):
    """A new SIM card (the chosen ICCID or the next free one of sim_type); the old card is retired."""
    services.swap_sim(_get(request, subscription_id), sim=payload.sim, sim_type=payload.sim_type,
                      reason=payload.reason, **_act(request))
    return _get(request, subscription_id)
