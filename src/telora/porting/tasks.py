"""The service tasks the porting flows use (registered with the workflow engine from the app's ready()).

port_in:  porting.submit_port_in → (the donor's answer message | the deadline timer) → porting.answer or
          porting.expire → the window timer → porting.activate_port_in
port_out: porting.validate_port_out → porting.answer_port_out → the window timer → porting.complete_port_out

Each task works on the order's porting request and is safe to run again: the services move a request
only from the state they expect, so a retried step does nothing twice.
"""

from __future__ import annotations

from telora.core.services.actors import Actor, ServiceError
from telora.porting import services
from telora.porting.models import PortingRequest

ITEM_INPUTS = {"order_id": int, "item": int}


def _actor(ctx) -> Actor:
    return ctx.actor if isinstance(getattr(ctx, "actor", None), Actor) else Actor.system("porting")


def _request(ctx, order_id: int, item: int = 1):
    from telora.orders.tasks import _item

    row = _item(order_id, item, ctx.brand)
    pk = row.characteristics.get("porting_request")
    request = PortingRequest.objects.filter(pk=pk or 0, brand=ctx.brand).select_related("brand").first()
    if request is None:
        raise ServiceError("porting_request: the order has no porting request", field="porting_request")
    return request, row


def submit_port_in(ctx, *, order_id, item=1):
    request, _row = _request(ctx, order_id, item)
    request = services.submit_port_in(request, flow_instance=ctx.instance, actor=_actor(ctx), at=ctx.at)
    return {"porting_request": request.pk, "answer_deadline": request.answer_deadline.isoformat()}


def undo_submit(ctx, *, inputs, outputs):
    """A cancelled order before the window: the port is withdrawn at the clearing house."""
    request = PortingRequest.objects.filter(pk=outputs.get("porting_request") or 0, brand=ctx.brand).first()
    if request is None:
        return {}
    request = services.cancel_port(request, reason="the order was cancelled", actor=_actor(ctx), at=ctx.at)
    return {"porting_request": request.pk, "state": request.state}


def answer(ctx, *, order_id, item=1):
    """After the donor's answer: accepted → scheduled for the window; otherwise the reason for the order."""
    request, _row = _request(ctx, order_id, item)
    if request.state == "accepted":
        request = services.schedule(request, actor=_actor(ctx), at=ctx.at)
    accepted = request.state == "scheduled"
    return {"porting_accepted": accepted,
            "window_at": request.window_at.isoformat() if accepted else "",
            "refusal_reason": "" if accepted else f"{request.reason_code}: {request.reason}"[:400]}


def expire(ctx, *, order_id, item=1):
    request, _row = _request(ctx, order_id, item)
    request = services.expire(request, actor=_actor(ctx), at=ctx.at)
    return {"refusal_reason": f"{request.reason_code}: {request.reason}"[:400]}


def activate_port_in(ctx, *, order_id, item=1):
    request, row = _request(ctx, order_id, item)
    request = services.activate_port_in(request, row, actor=_actor(ctx), at=ctx.at)
    return {"subscription_id": request.subscription_id or 0}


def validate_port_out(ctx, *, order_id, item=1):
    request, _row = _request(ctx, order_id, item)
    code, reason = services.validate_port_out(request, at=ctx.at)
    return {"port_valid": not code, "reason_code": code, "refusal_reason": f"{code}: {reason}" if code else ""}


def answer_port_out(ctx, *, order_id, item=1, accept=False, reason_code="", reason=""):
    request, _row = _request(ctx, order_id, item)
    request = services.answer_port_out(request, accept=bool(accept), code=reason_code, reason=reason,
                                       actor=_actor(ctx), at=ctx.at)
    return {"window_at": request.window_at.isoformat() if request.window_at else ""}


def complete_port_out(ctx, *, order_id, item=1):
    request, row = _request(ctx, order_id, item)
    services.complete_port_out(request, actor=_actor(ctx), at=ctx.at)
    row.state, row.result = "completed", {"ported_out": request.number, "recipient": request.recipient_code}
    row.save(update_fields=["state", "result"])
    return {"number": request.number}


TASKS = {
    "porting.submit_port_in": (submit_port_in, {"porting_request": int, "answer_deadline": str},
                               "Porting: send the port-in to the clearing house", undo_submit),
    "porting.answer": (answer, {"porting_accepted": bool, "window_at": str, "refusal_reason": str},
                       "Porting: the donor's answer (accepted: scheduled for the window)", None),
    "porting.expire": (expire, {"refusal_reason": str}, "Porting: no answer before the deadline", None),
    "porting.activate_port_in": (activate_port_in, {"subscription_id": int},
                                 "Porting: the number enters as ported in, the line starts with it", None),
    "porting.validate_port_out": (validate_port_out, {"port_valid": bool, "reason_code": str, "refusal_reason": str},
                                  "Porting: check a port-out (number, authorisation, debt rule)", None),
    "porting.answer_port_out": (answer_port_out, {"window_at": str},
                                "Porting: accept or reject the port-out at the clearing house", None),
    "porting.complete_port_out": (complete_port_out, {"number": str},
                                  "Porting: terminate the line, the number leaves as ported out", None),
}
EXTRA_INPUTS = {"porting.answer_port_out": {"accept": bool, "reason_code": str, "reason": str}}


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

    for key, (work, outputs, description, undo) in TASKS.items():
        if key in known:
            continue
        options = {"undo": guarded(undo), "undo_description": "withdraw the port at the clearing house"} if undo else {}
        service_task(key, inputs={**ITEM_INPUTS, **EXTRA_INPUTS.get(key, {})}, outputs=outputs,
                     description=description, **options)(guarded(work))
