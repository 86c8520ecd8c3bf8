"""The service tasks the standard flows use, registered with the workflow engine (when installed).

Each task works on one order item (`order_id`, `item`: its position) and calls the same operation the
direct runner calls (`orders.operations`), so a change is made one way. A task's effect is kept per
step key (`TaskRun`): a retry of the same step returns the first outputs and does nothing again.
A refusal by a check is a permanent TaskError (the flow goes to its error path or a desk).

Tasks whose effect can be taken back register an `undo`: cancelling a running order runs the undo of
every completed step, last first (the engine's compensation), so a cancelled sign-up gives its SIM card
and number back and its pending line goes.
"""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.db import IntegrityError

from telora.core.services.actors import Actor, ServiceError
from telora.customers import services as customers
from telora.customers.models import Subscription
from telora.customers.services.subscriptions import reservation_reference
from telora.inventory import services as inventory
from telora.orders import operations
from telora.orders.models import Order, OrderItem, TaskRun
from telora.orders.services.orders import log

ITEM_INPUTS = {"order_id": int, "item": int}


def _actor(ctx) -> Actor:
    return ctx.actor if isinstance(getattr(ctx, "actor", None), Actor) else Actor.system("orders_flow")


def once(name: str, work, outputs: dict):
    """Run `work(ctx, **inputs)` once per step key, keeping the declared outputs; a repeat returns the
    stored outputs.

    No savepoint of its own: the engine runs every try in one (a failed try leaves no effect), and the
    instance's lock keeps two workers off the same step. Should the step's TaskRun appear meanwhile all
    the same, this try's effect is undone with it and the step goes to a person (never done twice). A step the
    engine marks `fresh` (its task became ready in this run: no earlier try) skips the look-up."""
    from telora.workflows.registry import TaskError

    def task(ctx, **inputs):
        # a task that became ready in this run (`fresh`) has no earlier try, hence no TaskRun to look up
        ran = None if getattr(ctx, "fresh", False) else _ran(ctx)
        if not getattr(ctx, "fresh", False):
            done = TaskRun.objects.filter(step_key=ctx.step_key).first() if ran is None or ctx.step_key in ran \
                else None
            if done is not None:
                return done.outputs
        try:
            made = work(ctx, **inputs)
        except ServiceError as exc:
            raise TaskError(exc.code, exc.message, transient=False) from exc
        kept = {key: made.get(key, "" if kind is str else 0) for key, kind in outputs.items()}
        try:
            TaskRun.objects.create(step_key=ctx.step_key, task=name, outputs=kept, at=ctx.at)
        except IntegrityError as exc:  # the same step ran meanwhile in another worker
            raise TaskError("duplicate", f"{name} ran meanwhile for step {ctx.step_key}") from exc
        if ran is not None:
            ran.add(ctx.step_key)
        return kept

    return task


def _ran(ctx) -> set | None:
    """The step keys of the instance's TaskRuns, read once per run of its steps (one transaction, one `at`,
    the instance locked) rather than one look-up before each task. None: no instance (look the key up)."""
    instance = ctx.instance
    if instance is None or getattr(instance, "pk", None) is None:
        return None
    known = instance.__dict__.get("_task_runs")
    if known is None or known[0] != ctx.at:
        prefix = f"{instance.pk}:"
        if not ctx.step_key.startswith(prefix):
            return None
        keys = set(TaskRun.objects.filter(step_key__startswith=prefix).values_list("step_key", flat=True))
        known = instance.__dict__["_task_runs"] = (ctx.at, keys)
    return known[1]


def _item(order_id: int, position: int, brand) -> OrderItem:
    item = (OrderItem.objects.select_related("order", "order__customer", "subscription")
            .get(order_id=order_id, position=position or 1))
    if item.order.brand_id != brand.pk:  # a flow acts in its own brand only
        raise ServiceError("order_id: not an order of the flow's brand", field="order_id")
    item.order.brand = brand  # the flow's brand row, in hand (not joined again)
    if item.order.customer.brand_id == brand.pk:
        item.order.customer.brand = brand  # the line's services read the customer's brand: the same row
    if item.subscription is not None and item.subscription.brand_id == brand.pk:
        item.subscription.brand = item.order.brand  # the same row, in hand: the line's services read it
    return item


def item_task(operation: str, **options):
    def work(ctx, *, order_id, item=1):
        row = _item(order_id, item, ctx.brand)
        result = operations.OPERATIONS[operation](row, actor=_actor(ctx), at=ctx.at, **options)
        row.state, row.result = "completed", result
        row.save(update_fields=["state", "result", "subscription"])
        if row.order.subscription_id is None and row.subscription_id:
            Order.objects.filter(pk=row.order_id).update(subscription_id=row.subscription_id)
        return {k: v for k, v in result.items() if isinstance(v, (str, int))}

    return work


def _reservation_ttl(ctx, brand):
    """How long the brand's reservations last, read once per run of the instance's steps (one transaction,
    one `at`): a sign-up's SIM and number steps run one after the other and would each read the settings."""
    from telora.inventory.services.common import reservation_ttl

    known = getattr(ctx.instance, "__dict__", {}).setdefault("_reservation_ttl", {})
    key = (brand.pk, ctx.at)
    if key not in known:
        known.clear()
        known[key] = reservation_ttl(brand, None)
    return known[key] if known[key].total_seconds() > 0 else None  # 0 minutes: as the inventory says itself


def allocate_sim(ctx, *, order_id, item=1):
    """Reserve a SIM card for the customer (the sign-up takes it when it creates the line)."""
    row = _item(order_id, item, ctx.brand)
    values = row.characteristics
    sim = inventory.reserve_sim(row.order.brand, values.get("sim") or None, actor=Actor.system("orders_flow"),
                                at=ctx.at, sim_type=values.get("sim_type") or None,
                                ttl=_reservation_ttl(ctx, row.order.brand),
                                reference=reservation_reference(row.order.customer))
    _keep(row, "sim", sim.iccid)
    return {"iccid": sim.iccid}


def _keep(row: OrderItem, name: str, value: str) -> None:
    """The item names what was reserved for it, so that creating the line takes that card or number (not
    another free one, leaving the reservation behind)."""
    if row.characteristics.get(name) != value:
        row.characteristics = {**row.characteristics, name: value}
        row.save(update_fields=["characteristics"])


def allocate_number(ctx, *, order_id, item=1):
    """Reserve a number for the customer (the sign-up takes it when it creates the line)."""
    row = _item(order_id, item, ctx.brand)
    number = inventory.reserve_number(row.order.brand, row.characteristics.get("number") or None,
                                      group=row.characteristics.get("number_group") or None,
                                      actor=Actor.system("orders_flow"), at=ctx.at,
                                      ttl=_reservation_ttl(ctx, row.order.brand),
                                      reference=reservation_reference(row.order.customer))
    _keep(row, "number", number.number)
    return {"number": number.number}


def block_sim(ctx, *, order_id, item=1):
    """Lost or stolen: block the current card before a new one is sent."""
    row = _item(order_id, item, ctx.brand)
    sim = row.subscription.sim if row.subscription_id else None
    if sim is None:
        raise ServiceError("subscription: the line has no SIM card to block", field="subscription")
    if sim.status != "blocked":
        inventory.block_sim(row.order.brand, sim, actor=Actor.system("orders_flow"), at=ctx.at,
                            reason=f"order {row.order.number}")
    return {"iccid": sim.iccid}


def charge_one_time(ctx, *, order_id, product: str, item=1):
    """A one-time charge (activation fee, early-termination fee): the catalogue product is sold on the
    line and billed in its next run. Without a product, nothing is sold here: the plan's own one-time
    charges (the catalogue's activation fee of a plan) are billed with the line."""
    if not product:
        return {"product": ""}
    row = _item(order_id, item, ctx.brand)
    row.product_offering = product
    return {k: v for k, v in operations.add_one_time(row, actor=_actor(ctx), at=ctx.at).items()
            if isinstance(v, (str, int))}


def send_letter(ctx, *, order_id, template: str):
    """Queue a letter to the customer from the brand's active template `template` (the letters app's
    outbox renders and sends it once per order and template). A brand without that template, or an
    installation without the letters app, sends nothing and says so in the order's log."""
    order = Order.objects.select_related("customer", "subscription").get(pk=order_id, brand=ctx.brand)
    order.brand = ctx.brand  # the flow's brand row, in hand
    if not apps.is_installed("telora.letters"):
        log(order, "letter", actor=_actor(ctx), at=ctx.at, message=f"letter {template}: no letters app", template=template)
        return {"template": template, "letter": 0}
    from telora.letters.services.outbox import queue_letter

    try:
        letter = queue_letter(order.brand, actor=_actor(ctx), at=ctx.at, key=f"order:{order.pk}:{template}"[:200],
                              customer=order.customer, template_code=template, subscription=order.subscription)
    except ServiceError as exc:  # no such active template: the order goes on, its log says why
        log(order, "letter", actor=_actor(ctx), at=ctx.at, message=f"letter {template} not sent: {exc.message}",
            template=template)
        return {"template": template, "letter": 0}
    log(order, "letter", actor=_actor(ctx), at=ctx.at, message=f"letter {template} queued ({letter.channel}, "
        f"{letter.state})", template=template, letter=letter.pk)
    return {"template": template, "letter": letter.pk}


def commitment_check(ctx, *, order_id, item=1, notice_days=0):
    """Before a termination: is the line still within its commitment, which early-termination fee the
    catalogue has for it (a one-time product, `EARLY_TERMINATION` unless the order names another), and
    when the line ends (the order's requested moment plus the notice period in days)."""
    from telora.catalog.models import Product
    from telora.customers.services.common import catalogue_owners

    row = _item(order_id, item, ctx.brand)
    line = row.subscription
    if line is None:
        raise ServiceError("subscription: a termination needs the line", field="subscription")
    within = bool(line.commitment_end and line.commitment_end > ctx.at)
    code = row.characteristics.get("early_termination_fee") or "EARLY_TERMINATION"
    fee = code if within and Product.objects.filter(
        brand_id__in=catalogue_owners(ctx.brand), code=code, kind="one_time").exists() else ""
    if not isinstance(notice_days, int) or not 0 <= notice_days <= 366:
        raise ServiceError("notice_days: give a number of days from 0 to 366", field="notice_days")
    end = max(row.order.requested_at, ctx.at) + dt.timedelta(days=notice_days)
    return {"in_commitment": int(within), "commitment_end": line.commitment_end.isoformat() if within else "",
            "fee": fee, "terminate_at": end.isoformat()}


def starting_balance(ctx, *, order_id, amount: str, item=1):
    """A prepaid line's starting balance: a top-up of `amount` in the brand's currency on its ledger."""
    from decimal import Decimal, InvalidOperation

    from telora.rating.services.balances import top_up

    try:
        value = Decimal(str(amount or "0"))
    except InvalidOperation:
        raise ServiceError(f"amount: {str(amount)[:40]!r} is not an amount", field="amount") from None
    if value <= 0:
        return {"amount": "0"}
    row = _item(order_id, item, ctx.brand)
    if row.subscription is None:
        raise ServiceError("subscription: the order has no line yet", field="subscription")
    top_up(row.subscription, value, actor=Actor.system("orders_flow"), at=ctx.at, reference=f"order {row.order.number}")
    return {"amount": str(value)}


# --- compensation: what a cancelled order takes back, step by step ------------------------------------------

def _undo(work, description: str):
    """An undo as the engine calls it; a refusal is a TaskError with the service's reason. The order item
    it worked on follows: its state is `cancelled` (the TMF622 item state; the order's failure turns it
    `failed`) and its result lists what was undone, so an item never says "completed" once its effect
    was taken back."""
    from telora.workflows.registry import TaskError

    def undo(ctx, *, inputs, outputs):
        try:
            result = work(ctx, inputs=inputs, outputs=outputs) or {}
        except ServiceError as exc:
            raise TaskError(exc.code, exc.message) from exc
        _mark_undone(ctx, inputs, description)
        return result

    return undo


def _mark_undone(ctx, inputs: dict, description: str) -> None:
    row = OrderItem.objects.select_for_update().filter(
        order_id=inputs.get("order_id"), order__brand=ctx.brand, position=inputs.get("item") or 1).first()
    if row is None:
        return
    undone = [*row.result.get("undone", []), {"step": description, "at": ctx.at.isoformat()}]
    row.state, row.result = "cancelled", {**row.result, "undone": undone}
    row.save(update_fields=["state", "result"])


def _reserved_for(item, customer) -> bool:
    return item.status == "reserved" and item.reserved_for == reservation_reference(customer)


def undo_allocate_sim(ctx, *, inputs, outputs):
    """A card still reserved for the order's customer goes back to stock (one the line took is given back
    by the line's own undo)."""
    from telora.inventory.models import SimCard

    row = _item(inputs["order_id"], inputs.get("item", 1), ctx.brand)
    sim = SimCard.objects.filter(brand=ctx.brand, iccid=outputs.get("iccid")).first()
    if sim is not None and _reserved_for(sim, row.order.customer):
        inventory.cancel_sim_reservation(ctx.brand, sim, actor=Actor.system("orders_flow"), at=ctx.at)
        return {"iccid": sim.iccid, "status": "available"}
    return {"iccid": outputs.get("iccid", ""), "status": sim.status if sim is not None else "gone"}


def undo_allocate_number(ctx, *, inputs, outputs):
    from telora.inventory.models import PhoneNumber

    row = _item(inputs["order_id"], inputs.get("item", 1), ctx.brand)
    number = PhoneNumber.objects.filter(brand=ctx.brand, number=outputs.get("number")).first()
    if number is not None and _reserved_for(number, row.order.customer):
        inventory.cancel_number_reservation(ctx.brand, number, actor=Actor.system("orders_flow"), at=ctx.at)
        return {"number": number.number, "status": "available"}
    return {"number": outputs.get("number", ""), "status": number.status if number is not None else "gone"}


def undo_create_line(ctx, *, inputs, outputs):
    """The pending line goes (its SIM card and number back to stock); the order keeps its log."""
    line = Subscription.objects.filter(brand=ctx.brand, pk=outputs.get("subscription")).first()
    if line is None:
        return {"subscription": outputs.get("subscription"), "removed": False}
    Order.objects.filter(subscription=line).update(subscription=None)
    OrderItem.objects.filter(subscription=line).update(subscription=None)
    customers.discard_subscription(line, actor=_actor(ctx), at=ctx.at, reason=f"order {inputs['order_id']} cancelled")
    return {"subscription": outputs.get("subscription"), "removed": True}


def _line(ctx, inputs) -> Subscription:
    row = _item(inputs["order_id"], inputs.get("item", 1), ctx.brand)
    if row.subscription is None:
        raise ServiceError("subscription: the order has no line", field="subscription")
    return row.subscription


def undo_change_plan(ctx, *, inputs, outputs):
    """The old plan again, from the moment of the cancel."""
    if not outputs.get("old_plan"):
        return {}
    instance = customers.change_plan(_line(ctx, inputs), outputs["old_plan"], actor=_actor(ctx), at=ctx.at)
    return {"plan": instance.product.code}


def undo_add_addon(ctx, *, inputs, outputs):
    if not outputs.get("instance"):
        return {}
    found = customers.remove_addon(_line(ctx, inputs), outputs["instance"], actor=_actor(ctx), at=ctx.at)
    return {"product": found.product.code}


def undo_remove_addon(ctx, *, inputs, outputs):
    instance = customers.add_addon(_line(ctx, inputs), outputs["product"], actor=_actor(ctx), at=ctx.at)
    return {"instance": instance.pk}


def undo_suspend(ctx, *, inputs, outputs):
    customers.resume_subscription(_line(ctx, inputs), actor=_actor(ctx), at=ctx.at, reason="order cancelled")
    return {"status": "active"}


def undo_resume(ctx, *, inputs, outputs):
    customers.suspend_subscription(_line(ctx, inputs), actor=_actor(ctx), at=ctx.at, reason="order cancelled")
    return {"status": "suspended"}


def undo_number_change(ctx, *, inputs, outputs):
    """The line takes its old number back (out of quarantine); the new one goes to quarantine in turn, and
    the number history shows both moves."""
    if not outputs.get("old_number"):
        return {}
    line = _line(ctx, inputs)
    if line.identifier != outputs.get("number"):
        return {"number": line.identifier, "restored": False}  # changed again since: leave it
    customers.change_number(line, actor=_actor(ctx), at=ctx.at, number=outputs["old_number"], restore=True,
                            reason=f"order {inputs['order_id']} undone")
    return {"number": outputs["old_number"], "restored": True}


def undo_block_sim(ctx, *, inputs, outputs):
    from telora.inventory.models import SimCard

    sim = SimCard.objects.filter(brand=ctx.brand, iccid=outputs.get("iccid")).first()
    if sim is not None and sim.status == "blocked":
        inventory.unblock_sim(ctx.brand, sim, actor=Actor.system("orders_flow"), at=ctx.at, reason="order cancelled")
    return {"iccid": outputs.get("iccid", "")}


def register() -> None:
    from telora.workflows.registry import service_task, service_tasks

    known = {spec.key for spec in service_tasks()}

    def add(name, work, description, inputs=ITEM_INPUTS, outputs=None, undo=None, undo_description=""):
        if name in known:  # registered once per process
            return
        service_task(name, inputs=inputs, outputs=outputs or {}, description=description,
                     undo=_undo(undo, f"{description}: {undo_description}") if undo else None, undo_description=undo_description)(
            once(name, work, outputs or {}))

    add("customers.create_subscription", item_task("sign_up", activate=False),
        "Create the line of a sign-up (pending until activated)", outputs={"subscription": int, "identifier": str},
        undo=undo_create_line, undo_description="remove the pending line; its SIM card and number back to stock")
    add("customers.activate_subscription", item_task("activate"), "Activate the order's line",
        outputs={"activated_at": str})
    add("customers.change_plan", item_task("change_plan"), "Change the plan",
        outputs={"plan": str, "old_plan": str}, undo=undo_change_plan, undo_description="the old plan again")
    add("customers.add_addon", item_task("add_addon"), "Add an add-on", outputs={"product": str, "instance": int},
        undo=undo_add_addon, undo_description="end the add-on")
    add("customers.add_one_time", item_task("add_one_time"), "Sell a one-time product", outputs={"product": str})
    add("customers.remove_addon", item_task("remove_addon"), "End an add-on", outputs={"product": str},
        undo=undo_remove_addon, undo_description="add the add-on again")
    add("customers.swap_sim", item_task("swap_sim"), "Give the line a new SIM card", outputs={"sim": str})
    add("customers.change_number", item_task("number_change"),
        "Change the line's number (the chosen or next free one; the old one to quarantine)",
        outputs={"number": str, "old_number": str}, undo=undo_number_change,
        undo_description="the old number back from quarantine")
    add("customers.suspend_subscription", item_task("suspend"), "Suspend the line", outputs={"status": str},
        undo=undo_suspend, undo_description="resume the line")
    add("customers.resume_subscription", item_task("resume"), "Resume the line", outputs={"status": str},
        undo=undo_resume, undo_description="suspend the line again")
    add("customers.terminate_subscription", item_task("terminate"), "Terminate the line (number to quarantine)",
        outputs={"status": str})
    add("customers.commitment_check", commitment_check,
        "Commitment check: within the commitment, the early-termination fee, the end of the notice period",
        inputs={**ITEM_INPUTS, "notice_days": int},
        outputs={"in_commitment": int, "commitment_end": str, "fee": str, "terminate_at": str})
    add("inventory.allocate_sim", allocate_sim, "Reserve a SIM card for the customer", outputs={"iccid": str},
        undo=undo_allocate_sim, undo_description="cancel the reservation")
    add("inventory.allocate_number", allocate_number, "Reserve a number for the customer", outputs={"number": str},
        undo=undo_allocate_number, undo_description="cancel the reservation")
    add("inventory.block_sim", block_sim, "Block the line's SIM card (lost or stolen)", outputs={"iccid": str},
        undo=undo_block_sim, undo_description="unblock the card")
    add("billing.charge_one_time", charge_one_time, "Charge a one-time fee (a catalogue product)",
        inputs={"order_id": int, "product": str}, outputs={"product": str})
    add("rating.top_up", starting_balance, "Starting balance of a prepaid line (a top-up)",
        inputs={**ITEM_INPUTS, "amount": str}, outputs={"amount": str})
    add("letters.send", send_letter, "Send a letter to the customer (letters outbox, from a template)",
        inputs={"order_id": int, "template": str}, outputs={"template": str, "letter": int})
