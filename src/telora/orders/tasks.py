"""The service tasks the standard flows use, registered with the workflow engine (when installed).

Each task works on one order item (`order_id`, `item`: its position) and calls the same operation the
direct runner calls (`orders.operations`), so a change is made one way. A task's effect is kept per
step key (`TaskRun`): a retry of the same step returns the first outputs and does nothing again.
A refusal by a check is a permanent TaskError (the flow goes to its error path or a desk).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from telora.core.services.actors import Actor, ServiceError
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
    stored outputs."""
    from telora.workflows.registry import TaskError

    def task(ctx, **inputs):
        done = TaskRun.objects.filter(step_key=ctx.step_key).first()
        if done is not None:
            return done.outputs
        try:
            with transaction.atomic():
                made = work(ctx, **inputs)
                kept = {key: made.get(key, "" if kind is str else 0) for key, kind in outputs.items()}
                TaskRun.objects.create(step_key=ctx.step_key, task=name, outputs=kept, at=ctx.at)
        except ServiceError as exc:
            raise TaskError(exc.code, exc.message, transient=False) from exc
        except IntegrityError:  # the same step ran meanwhile in another worker
            return TaskRun.objects.get(step_key=ctx.step_key).outputs
        return kept

    return task


def _item(order_id: int, position: int, brand) -> OrderItem:
    item = (OrderItem.objects.select_related("order", "order__customer", "order__brand", "subscription")
            .get(order_id=order_id, position=position or 1))
    if item.order.brand_id != brand.pk:  # a flow acts in its own brand only
        raise ServiceError("order_id: not an order of the flow's brand", field="order_id")
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


def allocate_sim(ctx, *, order_id, item=1):
    """Reserve a SIM card for the customer (the sign-up takes it when it creates the line)."""
    row = _item(order_id, item, ctx.brand)
    values = row.characteristics
    sim = inventory.reserve_sim(row.order.brand, values.get("sim") or None, actor=Actor.system("orders_flow"),
                                at=ctx.at, sim_type=values.get("sim_type") or None,
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
                                      actor=Actor.system("orders_flow"), at=ctx.at,
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
    """Ask for a letter to the customer. The letters app is not part of Telora yet: the request is
    written to the order's log, where the letters app will pick it up as an event."""
    order = Order.objects.get(pk=order_id, brand=ctx.brand)
    log(order, "letter", actor=_actor(ctx), at=ctx.at, message=f"letter {template} requested", template=template)
    return {"template": template}


def register() -> None:
    from telora.workflows.registry import service_task, service_tasks

    known = {spec.key for spec in service_tasks()}

    def add(name, work, description, inputs=ITEM_INPUTS, outputs=None):
        if name in known:  # registered once per process
            return
        service_task(name, inputs=inputs, outputs=outputs or {}, description=description)(
            once(name, work, outputs or {}))

    add("customers.create_subscription", item_task("sign_up", activate=False),
        "Create the line of a sign-up (pending until activated)", outputs={"subscription": int, "identifier": str})
    add("customers.activate_subscription", item_task("activate"), "Activate the order's line",
        outputs={"activated_at": str})
    add("customers.change_plan", item_task("change_plan"), "Change the plan", outputs={"plan": str})
    add("customers.add_addon", item_task("add_addon"), "Add an add-on", outputs={"product": str})
    add("customers.add_one_time", item_task("add_one_time"), "Sell a one-time product", outputs={"product": str})
    add("customers.remove_addon", item_task("remove_addon"), "End an add-on", outputs={"product": str})
    add("customers.swap_sim", item_task("swap_sim"), "Give the line a new SIM card", outputs={"sim": str})
    add("customers.suspend_subscription", item_task("suspend"), "Suspend the line", outputs={"status": str})
    add("customers.resume_subscription", item_task("resume"), "Resume the line", outputs={"status": str})
    add("customers.terminate_subscription", item_task("terminate"), "Terminate the line", outputs={"status": str})
    add("inventory.allocate_sim", allocate_sim, "Reserve a SIM card for the customer", outputs={"iccid": str})
    add("inventory.allocate_number", allocate_number, "Reserve a number for the customer", outputs={"number": str})
    add("inventory.block_sim", block_sim, "Block the line's SIM card (lost or stolen)", outputs={"iccid": str})
    add("billing.charge_one_time", charge_one_time, "Charge a one-time fee (a catalogue product)",
        inputs={"order_id": int, "product": str}, outputs={"product": str})
    add("letters.send", send_letter, "Send a letter to the customer", inputs={"order_id": int, "template": str},
        outputs={"template": str})
