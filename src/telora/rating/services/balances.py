"""Prepaid balances outside rating: top-ups and adjustments, the balance now, the ledger.

A prepaid balance is the sum of its ledger (PrepaidBalanceEntry, each with its cause); the
PrepaidBalance row is the cached total, written in the same transaction as the entry. Rating
changes balances while it holds the advisory lock of the (brand, partition) of the records'
number (see services.batches); a top-up takes the same lock for every number the subscription
has held, inside its transaction, so a top-up and a rating batch of that partition never
interleave: each reads the balance the other left.

A prepaid line's recurring fees are taken by renewals (billing.services.renewals) through
`charge_renewal`, which decides under the same locks whether the balance may pay. Billing
registers a hook with `register_topup_hook(fn)`: after a top-up, `fn(subscription, actor=, at=)`
retries the line's renewals the balance could not pay (a hook that fails is logged and rolled back
alone; the top-up stands).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.customers.models import NumberAssignment, ProductInstance, Subscription
from telora.events.services import emit
from telora.rating.models import PrepaidBalance, PrepaidBalanceEntry
from telora.rating.services.intake import partition_of, require

logger = logging.getLogger(__name__)
DECIMALS = 6
MAX_AMOUNT = Decimal("999999999999")  # NUMERIC(18, 6) holds 12 whole digits


def current_plan(subscription: Subscription, at: dt.datetime) -> ProductInstance | None:
    """The plan in effect at `at`, else the latest the subscription held (as rating chooses)."""
    plans = list(ProductInstance.objects.filter(subscription=subscription, kind="plan").select_related("product")
                 .order_by("start_at", "id"))
    return next((p for p in plans if p.start_at <= at and (p.end_at is None or p.end_at > at)),
                plans[-1] if plans else None)


def is_prepaid(subscription: Subscription, at: dt.datetime) -> bool:
    """Its current plan product's service type ends with "prepaid" (mobile_prepaid...)."""
    plan = current_plan(subscription, at)
    return plan is not None and (plan.product.service_type or "").endswith("prepaid")


def prepaid_subscriptions(at: dt.datetime) -> QuerySet[Subscription]:
    """Subscriptions with a prepaid balance row, or whose plan in effect at `at` is prepaid."""
    prepaid_plan = ProductInstance.objects.filter(
        subscription=OuterRef("pk"), kind="plan", start_at__lte=at, product__service_type__endswith="prepaid"
    ).filter(Q(end_at__isnull=True) | Q(end_at__gt=at))
    has_balance = PrepaidBalance.objects.filter(subscription=OuterRef("pk"))
    return Subscription.objects.filter(Exists(prepaid_plan) | Exists(has_balance))


def balance_of(subscription) -> Decimal:
    """The prepaid balance now (0 when nothing was ever topped up or charged)."""
    found = PrepaidBalance.objects.filter(subscription_id=getattr(subscription, "pk", subscription)) \
        .values_list("balance", flat=True).first()
    return found if found is not None else Decimal(0)


def ledger(subscription, *, causes=None, since: dt.datetime | None = None,
           until: dt.datetime | None = None) -> QuerySet[PrepaidBalanceEntry]:
    """The subscription's ledger entries, newest first; `causes` narrows (topup, adjustment...)."""
    rows = PrepaidBalanceEntry.objects.filter(subscription_id=getattr(subscription, "pk", subscription))
    if causes:
        rows = rows.filter(cause__in=list(causes))
    if since is not None:
        rows = rows.filter(at__gte=since)
    if until is not None:
        rows = rows.filter(at__lt=until)
    return rows.order_by("-at", "-id")


def _amount(amount) -> Decimal:
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise ServiceError(f"amount: {amount!r} is not an amount", field="amount") from None
    if not value.is_finite():
        raise ServiceError("amount: must be a finite amount", field="amount")
    if abs(value) > MAX_AMOUNT:
        raise ServiceError(f"amount: at most {MAX_AMOUNT}", field="amount")
    if value != value.quantize(Decimal(1).scaleb(-DECIMALS)):
        raise ServiceError(f"amount: at most {DECIMALS} decimals", field="amount")
    return value


def _lock_partitions(subscription: Subscription) -> None:
    """The advisory locks rating takes for the partitions of every number the subscription held
    (in order, so two top-ups never wait on each other crosswise)."""
    numbers = set(NumberAssignment.objects.filter(subscription=subscription).values_list("number", flat=True))
    numbers.add(subscription.identifier)
    with connection.cursor() as cursor:
        for partition in sorted({partition_of(n) for n in numbers}):
            cursor.execute("SELECT pg_advisory_xact_lock(%s::int, %s::int)", [subscription.brand_id, partition])


def _change(subscription: Subscription, value: Decimal, *, cause: str, actor: Actor, at: dt.datetime,
            reference: str, action: str, floor: Decimal | None = None) -> PrepaidBalanceEntry | None:
    """Add `value` to the balance with a ledger entry; with a `floor`, only when the balance after it
    stays at or above the floor (None returned otherwise, nothing written)."""
    if subscription.status == "terminated":
        raise ServiceError(f"subscription: {subscription} is terminated", field="subscription")
    if not is_prepaid(subscription, at):
        raise ServiceError(f"subscription: {subscription} is not prepaid (its plan is not a prepaid product)",
                           field="subscription")
    with transaction.atomic():
        _lock_partitions(subscription)
        balance, _made = PrepaidBalance.objects.select_for_update().get_or_create(
            subscription=subscription, defaults={"balance": Decimal(0), "updated_at": at})
        before = balance.balance
        if floor is not None and before + value < floor:
            return None
        balance.balance = before + value
        balance.updated_at = at
        balance.save(update_fields=["balance", "updated_at"])
        entry = PrepaidBalanceEntry.objects.create(subscription=subscription, amount=value,
                                                   balance_after=balance.balance, cause=cause,
                                                   reference=reference[:200], at=at)
        record_event(actor=actor, at=at, action=action, obj=subscription, brand=subscription.brand,
                     old={"prepaid_balance": before},
                     new={"prepaid_balance": balance.balance, "amount": value, "reference": reference[:200]},
                     message=f"ledger entry {entry.pk}")
        if cause == "topup":
            emit("balance.topped_up", brand=subscription.brand, subject=subscription, at=at, actor=actor, payload={
                "subscription_id": subscription.pk, "customer_id": subscription.customer_id, "amount": value,
                "balance": balance.balance, "entry_id": entry.pk, "reference": reference[:200]})
        elif cause == "adjustment":
            emit("balance.adjusted", brand=subscription.brand, subject=subscription, at=at, actor=actor, payload={
                "subscription_id": subscription.pk, "customer_id": subscription.customer_id, "amount": value,
                "balance": balance.balance, "entry_id": entry.pk, "reference": reference[:200]})
        if before > 0 >= balance.balance:  # as rating says it of usage: once per crossing (provisioning bars)
            emit("balance.zero", brand=subscription.brand, subject=subscription, at=at, actor=actor, payload={
                "subscription_id": subscription.pk, "balance": balance.balance, "threshold": Decimal(0),
                "record_id": f"ledger:{entry.pk}", "record_at": at})
    return entry


def top_up(subscription: Subscription, amount: Decimal, *, actor: Actor, at: dt.datetime, reference: str = "",
           cause: str = "topup") -> PrepaidBalanceEntry:
    """Raise a prepaid balance by `amount` (> 0, at most 6 decimals): a ledger entry of `cause`
    (topup, or adjustment for a goodwill credit) with the balance after it. Needs rating.change
    in the subscription's brand; the subscription must be prepaid and not terminated."""
    if cause not in ("topup", "adjustment"):
        raise ServiceError(f"cause: {cause!r} is not topup or adjustment", field="cause")
    require(actor, subscription.brand, "rating.change")
    value = _amount(amount)
    if value <= 0:
        raise ServiceError("amount: must be more than 0", field="amount")
    entry = _change(subscription, value, cause=cause, actor=actor, at=at, reference=reference,
                    action="prepaid_topup" if cause == "topup" else "prepaid_adjust")
    _after_topup(subscription, actor=actor, at=at)
    return entry


TopupHook = Callable[..., object]
_topup_hooks: list[TopupHook] = []


def register_topup_hook(fn: TopupHook) -> TopupHook:
    """Call `fn(subscription, actor=, at=)` after every top-up (usable as a decorator)."""
    if fn not in _topup_hooks:
        _topup_hooks.append(fn)
    return fn


def _after_topup(subscription: Subscription, *, actor: Actor, at: dt.datetime) -> None:
    for hook in list(_topup_hooks):
        try:
            with transaction.atomic():
                hook(subscription, actor=actor, at=at)
        except Exception:  # the top-up is the customer's money: it stands whatever a hook does
            logger.exception("after the top-up of %s: %s failed", subscription.pk, getattr(hook, "__name__", hook))


def charge_renewal(subscription: Subscription, amount: Decimal, *, floor: Decimal, actor: Actor, at: dt.datetime,
                   reference: str = "") -> PrepaidBalanceEntry | None:
    """Take a renewal fee `amount` (> 0) from the balance when the balance after it stays at or above
    `floor` (0, or minus the brand's grace): a ledger entry of cause renewal; None when it may not
    (nothing written). The caller (billing's renewals) judges the rights."""
    value = _amount(amount)
    if value <= 0:
        raise ServiceError("amount: must be more than 0", field="amount")
    return _change(subscription, -value, cause="renewal", actor=actor, at=at, reference=reference,
                   action="prepaid_renewal", floor=floor)


def lock_balance(subscription: Subscription) -> Decimal:
    """Take the subscription's partition locks and its balance row's lock in the caller's
    transaction (as `_change` does) and return the balance: one renewal of a line at a time."""
    _lock_partitions(subscription)
    found = PrepaidBalance.objects.select_for_update().filter(subscription=subscription) \
        .values_list("balance", flat=True).first()
    return found if found is not None else Decimal(0)


def adjust(subscription: Subscription, amount: Decimal, *, actor: Actor, at: dt.datetime,
           reference: str = "") -> PrepaidBalanceEntry:
    """Correct a prepaid balance by `amount`: positive credits, negative debits (not 0); a ledger
    entry of cause adjustment. The same rights and checks as `top_up`."""
    require(actor, subscription.brand, "rating.change")
    value = _amount(amount)
    if value == 0:
        raise ServiceError("amount: must not be 0", field="amount")
    return _change(subscription, value, cause="adjustment", actor=actor, at=at, reference=reference,
                   action="prepaid_adjust")
