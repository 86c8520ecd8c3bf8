"""Barring lines at the network, for reasons tracked apart: a prepaid balance that ran out (`balance`),
an order that suspends the line (`order`), and later dunning (`dunning`).

Each reason is a `LineBar` row, open until the reason ends. The network is asked to bar what the open
reasons need together (the union of their services; "all" is everything) and is told again only when
that changes: the first reason bars, a wider one widens, the end of a wider one narrows, and the end of
the last reason unbars. So a top-up does not unbar a line an order suspended, and the end of the
suspension leaves the balance bar in place.

The balance reasons come from the domain events (`balance.zero`, `balance.low`, `balance.topped_up`,
`balance.adjusted`) through the consumer `provisioning.barring`. It compares the line's balance *now*
with the brand's level, so it is idempotent: a replayed event, a zero event whose line was topped up
since, or a top-up that leaves the balance at or below the level change nothing. The order reasons come
from the service tasks `provisioning.bar_line` / `provisioning.unbar_line` of the suspend and resume flows.

Usage already in flight when the balance reached the level is rated all the same (it happened; the
ledger stays the truth): `in_flight(bar)` says how much of it came, how much left the balance below the
brand's grace, and whether any started after the network confirmed the bar (the bar leaked).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal, InvalidOperation

from django.db import transaction

from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.events.registry import consumer
from telora.provisioning import services
from telora.provisioning.models import (
    BAR_AT,
    BAR_REASONS,
    BAR_SCOPES,
    BarringSettings,
    LineBar,
    ProvisioningRequest,
)

logger = logging.getLogger(__name__)

CONSUMER = "provisioning.barring"
BALANCE_EVENTS = ("balance.zero", "balance.low", "balance.topped_up", "balance.adjusted")
ACTOR = Actor.system("barring")
MAX_GRACE = Decimal("999999999999")
SERVICE_CODE = re.compile(r"^[a-z0-9_]{1,40}$")
MAX_SERVICES = 20


# --- settings ---------------------------------------------------------------------------------------------

def barring_settings(brand) -> BarringSettings:
    """The brand's row, or an unsaved one with the defaults."""
    brand_id = getattr(brand, "pk", brand)
    return BarringSettings.objects.filter(brand_id=brand_id).first() or BarringSettings(brand_id=brand_id)


def _grace(value) -> Decimal:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ServiceError(f"grace: {value!r} is not an amount", field="grace") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_GRACE or amount != round(amount, 6):
        raise ServiceError("grace: an amount from 0 to 999999999999 (at most 6 decimals)", field="grace")
    return amount


def _services(values) -> list[str]:
    if isinstance(values, str):
        values = [v for v in re.split(r"[\s,]+", values) if v]
    values = sorted({str(v).strip() for v in values or ()})
    if len(values) > MAX_SERVICES:
        raise ServiceError(f"services: at most {MAX_SERVICES}", field="services")
    for value in values:
        if not SERVICE_CODE.match(value):
            raise ServiceError(f"services: {value!r} is not a service code (a-z, 0-9, _; up to 40)",
                               field="services")
    return values


def update_barring_settings(brand, *, bar_at: str, scope: str, services: list[str] | str = (), grace=0,
                            target_code: str = "network", actor: Actor, at: dt.datetime) -> BarringSettings:
    """Change the brand's barring settings (the view checks provisioning.change), audited with old and new.
    A change applies to the events consumed after it; lines barred already stay until their reason ends."""
    if bar_at not in BAR_AT:
        raise ServiceError(f"bar_at: one of {', '.join(BAR_AT)}", field="bar_at")
    if scope not in BAR_SCOPES:
        raise ServiceError(f"scope: one of {', '.join(BAR_SCOPES)}", field="scope")
    listed = _services(services)
    if scope == "outgoing" and not listed:
        raise ServiceError("services: list the outgoing chargeable services the network bars", field="services")
    amount = _grace(grace)
    if not target_code or not SERVICE_CODE.match(target_code.replace("-", "_")):
        raise ServiceError("target_code: a target's code", field="target_code")
    with transaction.atomic():
        row = BarringSettings.objects.select_for_update().filter(brand=brand).first()
        made = row is None
        row = row or BarringSettings(brand=brand)
        old = {"bar_at": row.bar_at, "scope": row.scope, "services": row.services, "grace": row.grace,
               "target_code": row.target_code}
        row.bar_at, row.scope, row.services, row.grace, row.target_code = bar_at, scope, listed, amount, target_code
        row.updated_at = at
        row.save()
        new = {"bar_at": bar_at, "scope": scope, "services": listed, "grace": amount, "target_code": target_code}
        changed = {k for k in new if old[k] != new[k]} if not made else set(new)
        if changed:
            record_event(actor=actor, at=at, action="create" if made else "update", obj=row, brand=brand,
                         old=None if made else {k: old[k] for k in changed}, new={k: new[k] for k in changed})
    return row


# --- reasons and the network ------------------------------------------------------------------------------

def open_bars(subscription) -> list[LineBar]:
    return list(LineBar.objects.filter(subscription_id=getattr(subscription, "pk", subscription),
                                       ended_at__isnull=True).order_by("started_at", "id"))


def network_services(bars) -> list[str]:
    """What the network must bar for these open reasons together ([] : nothing, ["all"]: everything)."""
    wanted = set()
    for bar in bars:
        wanted |= set(bar.services or ["all"])
    return ["all"] if "all" in wanted else sorted(wanted)


def _payload(line, operation: str, wanted: list[str], reasons: list[str]) -> dict:
    from telora.provisioning.tasks import payload_for

    payload = payload_for(line, operation)
    if operation == "bar":
        payload.update(barring=wanted, reasons=sorted(reasons))
    return payload


def _ask_network(line, bar: LineBar, before: list[str], after: list[str], reasons: list[str], *, end: bool,
                 settings: BarringSettings, order=None, flow=None, actor: Actor,
                 at: dt.datetime) -> ProvisioningRequest | None:
    """One request when what the network bars changes: bar (or narrow/widen) to `after`, or unbar when
    `after` is empty. A bar never sent yet is simply cancelled instead of being undone."""
    if before == after:
        return None
    target = services.target_for(line.brand, settings.target_code) or services.target_for(line.brand)
    if target is None:
        logger.warning("barring: %s has no network target; the %s bar of line %s is recorded only",
                       line.brand.code, bar.reason, line.pk)
        return None
    if end and not after and bar.bar_request_id is not None:
        pending = ProvisioningRequest.objects.filter(pk=bar.bar_request_id, state="queued", tries=0).first()
        earlier = (ProvisioningRequest.objects.filter(subscription=line, idempotency_key__startswith="barring:")
                   .exclude(pk=bar.bar_request_id).exclude(state__in=("cancelled", "failed")).order_by("-id").first())
        if pending is not None and (earlier is None or earlier.operation == "unbar"):  # it alone would bar
            try:
                services.cancel_request(pending, reason=f"the {bar.reason} bar ended before it was sent",
                                        actor=actor, at=at)
                return None
            except ServiceError:
                pass  # a worker took it meanwhile: undo it at the network
    operation = "bar" if after else "unbar"
    return services.create_request(
        line.brand, operation=operation, payload=_payload(line, operation, after, reasons), target=target,
        subscription=line, order=order, idempotency_key=f"barring:{bar.pk}:{'end' if end else 'start'}",
        flow_instance=flow[0] if flow else None, step_key=flow[1] if flow else "", actor=actor, at=at)


def bar_line(line, *, reason: str, started_by: str, services_barred: list[str] | None = None,
             since: dt.datetime | None = None, balance: Decimal | None = None, order=None, flow=None,
             settings: BarringSettings | None = None, actor: Actor, at: dt.datetime) -> LineBar:
    """Open the line's bar for `reason` (the open one when it exists: once per reason) and ask the network
    for what the open reasons now need. Locks the line: two reasons never race. `flow` (instance, step
    key): the flow waiting for the request (told when it ends)."""
    from telora.customers.models import Subscription

    if reason not in BAR_REASONS:
        raise ServiceError(f"reason: one of {', '.join(BAR_REASONS)}", field="reason")
    with transaction.atomic():
        line = Subscription.objects.select_for_update(of=("self",)).select_related("brand", "sim").get(pk=line.pk)
        bars = open_bars(line)
        existing = next((b for b in bars if b.reason == reason), None)
        if existing is not None:
            return existing
        settings = settings or barring_settings(line.brand_id)
        if services_barred is None:
            services_barred = settings.barred_services() if reason != "order" else ["all"]
        bar = LineBar.objects.create(brand=line.brand, subscription=line, reason=reason, services=services_barred,
                                     started_at=at, started_by=started_by[:80], since=since, balance=balance)
        before, after = network_services(bars), network_services([*bars, bar])
        bar.bar_request = _ask_network(line, bar, before, after, [b.reason for b in (*bars, bar)], end=False,
                                       settings=settings, order=order, flow=flow, actor=actor, at=at)
        bar.save(update_fields=["bar_request"])
        record_event(actor=actor, at=at, action="bar", obj=line, brand=line.brand,
                     new={"reason": reason, "services": services_barred, "network": after,
                          "request": bar.bar_request_id}, message=f"barred ({reason}) by {started_by}"[:500])
    return bar


def unbar_line(line, *, reason: str, ended_by: str, order=None, flow=None, settings: BarringSettings | None = None,
               actor: Actor, at: dt.datetime) -> LineBar | None:
    """End the line's open bar for `reason` (None when there is none: nothing to do) and ask the network
    for what the reasons left need: nothing (unbar), or less (narrow)."""
    from telora.customers.models import Subscription

    if reason not in BAR_REASONS:
        raise ServiceError(f"reason: one of {', '.join(BAR_REASONS)}", field="reason")
    with transaction.atomic():
        line = Subscription.objects.select_for_update(of=("self",)).select_related("brand", "sim").get(pk=line.pk)
        bars = open_bars(line)
        bar = next((b for b in bars if b.reason == reason), None)
        if bar is None:
            return None
        rest = [b for b in bars if b is not bar]
        bar.ended_at, bar.ended_by = at, ended_by[:80]
        bar.save(update_fields=["ended_at", "ended_by"])
        before, after = network_services(bars), network_services(rest)
        if line.status != "terminated":
            bar.end_request = _ask_network(line, bar, before, after, [b.reason for b in rest], end=True,
                                           settings=settings or barring_settings(line.brand_id), order=order,
                                           flow=flow, actor=actor, at=at)
            bar.save(update_fields=["end_request"])
        record_event(actor=actor, at=at, action="unbar", obj=line, brand=line.brand,
                     old={"reason": reason, "network": before},
                     new={"network": after, "request": bar.end_request_id, "reasons_left": [b.reason for b in rest]},
                     message=f"{reason} bar ended by {ended_by}"[:500])
    return bar


# --- the balance --------------------------------------------------------------------------------------------

def bar_level(line, settings: BarringSettings, at: dt.datetime) -> Decimal | None:
    """The balance at or below which the line is barred: 0, or the line's low-balance threshold (its
    plan's, else the brand's rating settings); None when the brand does not bar from balance."""
    if settings.bar_at == "off":
        return None
    if settings.bar_at == "zero":
        return Decimal(0)
    from telora.rating.services.balances import current_plan
    from telora.rating.services.settings import rating_settings

    plan = current_plan(line, at)
    own = getattr(getattr(plan, "product", None), "low_balance_threshold", None)
    return own if own is not None else rating_settings(line.brand_id).low_balance_threshold


def follow_balance(line, *, cause: str, at: dt.datetime, since: dt.datetime | None = None,
                   actor: Actor = ACTOR) -> str:
    """Bar or unbar the line for its balance *now*: "barred", "unbarred" or "" (nothing changed).
    At or below the level with no open balance bar: bar; above it with one: unbar. Anything else (a
    repeat, a top-up that does not lift the balance over the level) changes nothing."""
    from telora.rating.services.balances import balance_of

    if line.status == "terminated":
        return ""
    settings = barring_settings(line.brand_id)
    balance = balance_of(line)
    level = bar_level(line, settings, at)
    barred = LineBar.objects.filter(subscription=line, reason="balance", ended_at__isnull=True).exists()
    if level is not None and balance <= level and not barred:
        bar_line(line, reason="balance", started_by=cause, since=reached(line, level) or since or at,
                 balance=balance, settings=settings, actor=actor, at=at)
        return "barred"
    if barred and (level is None or balance > level):
        unbar_line(line, reason="balance", ended_by=cause, settings=settings, actor=actor, at=at)
        return "unbarred"
    return ""


def reached(line, level: Decimal) -> dt.datetime | None:
    """When the balance last went from above the level to at or below it (the ledger entry's time: a rated
    record's start), so usage in flight is counted from there whichever event came first."""
    from django.db.models import F

    from telora.rating.models import PrepaidBalanceEntry

    return (PrepaidBalanceEntry.objects.filter(subscription=line, balance_after__lte=level)
            .alias(before=F("balance_after") - F("amount")).filter(before__gt=level)
            .order_by("-at", "-id").values_list("at", flat=True).first())


@consumer(CONSUMER, types=(*BALANCE_EVENTS, "subscription.terminated"))
def on_event(event) -> None:
    """The domain events that move a line's balance (and its end). Idempotent: see follow_balance."""
    from telora.core.modules import area_enabled
    from telora.customers.models import Subscription

    if not area_enabled("provisioning", event.brand_id):  # the brand (or installation) runs no provisioning
        return
    line = Subscription.objects.filter(pk=int(event.subject_id or 0), brand_id=event.brand_id) \
        .select_related("brand").first()
    if line is None:
        return
    at = event.at if isinstance(event.at, dt.datetime) else dt.datetime.fromisoformat(str(event.at))
    if event.type == "subscription.terminated":
        for bar in open_bars(line):  # the subscriber is deleted at the network: nothing to unbar
            LineBar.objects.filter(pk=bar.pk).update(ended_at=at, ended_by=f"event:{event.id}")
        return
    follow_balance(line, cause=f"event:{event.id}", at=at)


def sweep(*, at: dt.datetime, brand_ids=None, limit: int = 500) -> int:
    """Lines barred for balance whose balance went back over the level without an event saying so (a
    re-rate giving charges back, an OCS's own credit): unbarred. The periodic job's safety net."""
    bars = LineBar.objects.filter(reason="balance", ended_at__isnull=True).select_related("subscription__brand")
    if brand_ids is not None:
        bars = bars.filter(brand_id__in=brand_ids)
    return sum(follow_balance(bar.subscription, cause="sweep", at=at) == "unbarred" for bar in bars[:limit])


# --- what the screens show ----------------------------------------------------------------------------------

def in_flight(bar: LineBar, grace: Decimal) -> dict:
    """The usage rated for a balance-barred line since its balance reached the level: records (ledger
    entries of usage or OCS), their amount, how many left the balance below minus the grace, and how many
    started after the network confirmed the bar (they should not exist: the bar leaked)."""
    from django.db.models import Count, Q, Sum

    from telora.rating.models import PrepaidBalanceEntry

    if bar.reason != "balance":
        return {}
    rows = PrepaidBalanceEntry.objects.filter(subscription_id=bar.subscription_id, cause__in=("usage", "ocs"),
                                              amount__lt=0, at__gte=bar.since or bar.started_at)
    if bar.ended_at is not None:
        rows = rows.filter(at__lt=bar.ended_at)
    confirmed = None
    if bar.bar_request_id is not None:
        confirmed = ProvisioningRequest.objects.filter(pk=bar.bar_request_id, state="completed") \
            .values_list("completed_at", flat=True).first()
    figures = rows.aggregate(records=Count("id"), amount=Sum("amount"),
                             beyond_grace=Count("id", filter=Q(balance_after__lt=-grace)),
                             after_bar=Count("id", filter=Q(at__gt=confirmed) if confirmed else Q(pk__in=[])))
    figures["amount"] = -(figures["amount"] or Decimal(0))
    return figures


def bars_for_customer(customer, *, limit: int = 20) -> list[LineBar]:
    """The customer's lines' bars, open ones first, then the latest ended."""
    rows = (LineBar.objects.filter(brand=customer.brand, subscription__customer=customer)
            .select_related("subscription", "bar_request", "end_request"))
    return sorted(rows[:limit], key=lambda b: (not b.open, -b.started_at.timestamp()))


# --- the service tasks of the suspend and resume flows ------------------------------------------------------

def _order_line(ctx, order_id: int, item: int):
    from telora.orders.tasks import _item

    row = _item(order_id, item, ctx.brand)
    line = row.subscription or row.order.subscription
    if line is None:
        raise ServiceError("subscription: the order has no line to bar", field="subscription")
    return row.order, line


def _task_actor(ctx) -> Actor:
    return ctx.actor if isinstance(getattr(ctx, "actor", None), Actor) else ACTOR


def bar_task(ctx, *, order_id, item=1, reason="order"):
    """Open the line's bar for the order's reason; `request` is the network request it caused, 0 when the
    network needs nothing new (the line is barred for everything already): the flow then does not wait."""
    order, line = _order_line(ctx, order_id, item)
    bar = bar_line(line, reason=reason, started_by=f"order:{order.pk}", order=order,
                   flow=(ctx.instance, ctx.step_key), actor=_task_actor(ctx), at=ctx.at)
    mine = bar.started_by == f"order:{order.pk}"  # else an earlier order's bar holds: nothing to wait for
    return {"request": (bar.bar_request_id or 0) if mine else 0}


def unbar_task(ctx, *, order_id, item=1, reason="order"):
    """End the line's bar for the order's reason; the network is unbarred only when no reason is left
    (`request` 0 when nothing is asked of it)."""
    order, line = _order_line(ctx, order_id, item)
    bar = unbar_line(line, reason=reason, ended_by=f"order:{order.pk}", order=order,
                     flow=(ctx.instance, ctx.step_key), actor=_task_actor(ctx), at=ctx.at)
    if bar is None:  # a retried step: the bar this order ended before
        bar = LineBar.objects.filter(subscription=line, reason=reason, ended_by=f"order:{order.pk}").first()
    return {"request": (bar.end_request_id or 0) if bar else 0}


def undo_bar(ctx, *, inputs, outputs):
    """A cancelled suspension: its reason ends (the line is unbarred if nothing else holds it)."""
    order, line = _order_line(ctx, inputs.get("order_id"), inputs.get("item", 1))
    bar = unbar_line(line, reason=inputs.get("reason", "order"), ended_by=f"order:{order.pk}:cancelled",
                     order=order, actor=_task_actor(ctx), at=ctx.at)
    return {"ended": bar is not None}


def register_tasks() -> None:
    from telora.workflows.registry import TaskError, service_task, service_tasks

    known = {spec.key for spec in service_tasks()}
    inputs = {"order_id": int, "item": int, "reason": str}

    def guarded(work):
        def task(ctx, **given):
            try:
                return work(ctx, **given)
            except ServiceError as exc:
                raise TaskError(exc.code, exc.message) from exc

        return task

    if "provisioning.bar_line" not in known:
        service_task("provisioning.bar_line", inputs=inputs, outputs={"request": int},
                     description="Provisioning: bar the order's line for a reason (order, dunning); the network "
                                 "is asked only when what it bars changes (request 0: nothing to wait for)",
                     undo=guarded(undo_bar), undo_description="end the reason (unbar if no other is left)")(
            guarded(bar_task))
    if "provisioning.unbar_line" not in known:
        service_task("provisioning.unbar_line", inputs=inputs, outputs={"request": int},
                     description="Provisioning: end the line's bar for a reason; the network is unbarred only "
                                 "when no reason is left (request 0: nothing to wait for)")(guarded(unbar_task))
