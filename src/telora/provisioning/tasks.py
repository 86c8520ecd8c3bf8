"""The service tasks provisioning adds to the workflow engine (registered from the app's ready()).

`provisioning.<operation>` queues a request for the order's line at the brand's network target and
returns its id; the flow then waits for the message `provisioning_done` (sent when the request ends)
and runs `provisioning.check`, which passes on a completed request and fails the step to the flow's
failure desk (retry, skip, abort) on a failed one. The idempotency key is the flow step without its
try number: a retried step finds its request again instead of making another.
"""

from __future__ import annotations

from telora.core.services.actors import Actor, ServiceError
from telora.provisioning import services
from telora.provisioning.models import ProvisioningRequest
from telora.provisioning.sequencing_services import (
    group_of,
    group_state,
    queue_operation,
    resend_group,
    undo_group,
)

ITEM_INPUTS = {"order_id": int, "item": int}
TASK_OPERATIONS = {"create_subscriber": "create", "bar": "bar", "unbar": "unbar", "delete_subscriber": "delete",
                   "sim_swap": "sim_swap", "change_services": "change_services"}
# (no number_change task yet: its request needs the old and the new number, which the order's flow holds)
# the order operation each task is (its steps come from the brand's sequencing, docs/provisioning.md)
ORDER_OPERATIONS = {"create": "activate", "bar": "suspend", "unbar": "resume", "delete": "terminate",
                    "sim_swap": "sim_swap", "change_services": "change_services", "number_change": "number_change"}


def _step(ctx) -> tuple[str, str, int]:
    """(instance id, task id, try) of the step key `instance:task:try`."""
    instance, task, attempt = ctx.step_key.rsplit(":", 2)
    return instance, task, int(attempt)


def payload_for(line, operation: str) -> dict:
    """What the network needs to know of the line (no SIM secrets: the host operator has the card's keys
    from the SIM vendor's output file)."""
    from telora.customers.models import ProductInstance

    payload = {"msisdn": line.identifier, "subscription": line.pk}
    if line.sim_id is not None:
        payload.update(iccid=line.sim.iccid, imsi=line.sim.imsi)
    if operation in ("create", "change_services"):
        payload["services"] = sorted(ProductInstance.objects.filter(subscription=line, end_at__isnull=True)
                                     .values_list("product__code", flat=True))
    return payload


def request_task(operation: str):
    def task(ctx, *, order_id, item=1):
        from telora.orders.tasks import _item

        row = _item(order_id, item, ctx.brand)
        line = row.subscription or row.order.subscription
        if line is None:
            raise ServiceError("subscription: the order has no line to provision", field="subscription")
        instance, task_id, _ = _step(ctx)
        requests = queue_operation(
            ctx.brand, line, ORDER_OPERATIONS[operation], payload=payload_for(line, operation), order=row.order,
            flow_instance=ctx.instance, step_key=ctx.step_key, key=f"flow:{instance}:{task_id}", actor=_actor(ctx),
            at=ctx.at)
        return {"request": requests[0].pk}  # the first of its sequence: `check` reads the whole group

    return task


def _actor(ctx) -> Actor:
    return ctx.actor if isinstance(getattr(ctx, "actor", None), Actor) else Actor.system("provisioning")


def check(ctx, *, request):
    """Pass on a completed request; a failed one fails the step (to the failure desk). Retried from the
    desk, the request is sent again under a fresh key and the flow waits for it again (`state` "resent":
    the flow's gateway goes back to the wait); not ended yet: `state` "waiting", the same way back."""
    from telora.workflows.registry import TaskError
    from telora.workflows.services.run import last_step

    found = ProvisioningRequest.objects.filter(pk=request, brand=ctx.brand).first()
    if found is None:
        raise TaskError("unknown_request", f"no provisioning request {request} in {ctx.brand.code}")
    group = group_of(found)  # a sequenced operation is done when all its steps are
    state, failed = group_state(group)
    if state == "completed":
        return {"state": "completed", "reference": group[0].correlation_id}
    if state == "failed":
        _, task_id, _ = _step(ctx)
        last = last_step(ctx.instance, task_id)
        if last is None or last.kind != "failure":  # not a retry asked at the desk
            step = f" (step {failed.step})" if failed.step else ""
            raise TaskError(failed.error_code or failed.state,
                            f"{failed.operation}{step} {failed.state}: {failed.error}")
        resend_group(found, actor=_actor(ctx), at=ctx.at)
        return {"state": "resent", "reference": ""}
    return {"state": "waiting", "reference": ""}


def undo_request(ctx, *, inputs, outputs):
    """A cancelled order: a request not sent yet is cancelled; one the network took is taken back by the
    opposite request (a created subscriber is deleted)."""
    request = ProvisioningRequest.objects.filter(pk=outputs.get("request"), brand=ctx.brand).first()
    if request is None:
        return {}
    if request.group_key:
        return undo_group(request, actor=_actor(ctx), at=ctx.at)
    if request.state == "queued" and not request.tries:
        services.cancel_request(request, reason="the order was cancelled", actor=_actor(ctx), at=ctx.at)
        return {"request": request.pk, "cancelled": True}
    opposite = {"create": "delete", "bar": "unbar", "unbar": "bar"}.get(request.operation)
    if opposite is None or request.state in ("failed", "cancelled"):
        return {"request": request.pk, "undone": False}
    undo = services.create_request(ctx.brand, operation=opposite, payload=request.payload, target=request.target,
                                   subscription=request.subscription, order=request.order,
                                   idempotency_key=f"{request.idempotency_key}:undo", actor=_actor(ctx), at=ctx.at)
    return {"request": request.pk, "undo_request": undo.pk}


def register() -> None:
    from telora.workflows.registry import TaskError, service_task, service_tasks

    known = {spec.key for spec in service_tasks()}

    def guarded(work):
        def task(ctx, **inputs):
            try:
                return work(ctx, **inputs)
            except ServiceError as exc:
                raise TaskError(exc.code, exc.message) from exc

        return task

    def undo(ctx, *, inputs, outputs):
        try:
            return undo_request(ctx, inputs=inputs, outputs=outputs)
        except ServiceError as exc:
            raise TaskError(exc.code, exc.message) from exc

    for name, operation in TASK_OPERATIONS.items():
        key = f"provisioning.{name}"
        if key not in known:
            service_task(key, inputs=ITEM_INPUTS, outputs={"request": int},
                         description=f"Provisioning: {operation} at the brand's network (then wait for "
                                     f"provisioning_done)",
                         undo=undo if operation in ("create", "bar", "unbar") else None,
                         undo_description="cancel the request, or send the opposite one")(
                guarded(request_task(operation)))
    if "provisioning.check" not in known:
        service_task("provisioning.check", inputs={"request": int}, outputs={"state": str, "reference": str},
                     description="Provisioning: the request's result (a failure goes to the desk)")(guarded(check))
