"""The writes of sequencing: applying a brand's sequencing (audited, a dry run first), and one order
operation queued as its group of ordered requests (docs/provisioning.md, Sequencing).

A group is the requests one flow step (or one call) became; they share `group_key` and run in their
`position` order, one at a time, because a line's request is not sent while an earlier request of the
same line is open (services.send_due). A step that fails blocks the rest of its group (cancelled with
`blocked`), and the flow waiting for the group is told once every request of it has ended.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from telora.core.services import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.provisioning import sequencing
from telora.provisioning.models import TERMINAL, NetworkTarget, ProvisioningRequest, Sequencing
from telora.provisioning.sequencing import SequencingError

OPEN = ("queued", "sent", "acknowledged")
# an order operation that undoes another (a cancelled order takes back what the network did)
OPPOSITE = {"activate": "terminate", "suspend": "resume", "resume": "suspend"}


# --- the configuration ------------------------------------------------------------------------------------

@dataclass
class ApplyResult:
    brand: str
    target: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    applied: bool = False
    version: int = 0

    def lines(self) -> list[str]:
        return [f"{verb} {where}: {what}" for verb, where, what in self.changes]

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for verb, _, _ in self.changes:
            counts[verb] = counts.get(verb, 0) + 1
        return ", ".join(f"{verb} {n}" for verb, n in counts.items()) or "no changes"


def sequencing_of(target: NetworkTarget | None) -> dict | None:
    """The target's checked document, or None (every operation is then its one request)."""
    if target is None:
        return None
    row = Sequencing.objects.filter(target=target).first()
    return row.document if row is not None else None


def apply_sequencing(brand, text: str, *, actor: Actor, at: dt.datetime, dry_run: bool = False,
                     source: str = "") -> ApplyResult:
    """Check a sequencing YAML and (unless a dry run) store it for the brand's target it names. All or
    nothing: SequencingError lists every fault with its path and line; the changes are what differs."""
    document = sequencing.load_text(text)
    target = NetworkTarget.objects.filter(brand=brand, code=document["target"]).first()
    if target is None:
        raise SequencingError([("target", f"{brand.code} has no network target {document['target']!r} "
                                          "(configure it first: Provisioning -> Network targets)")])
    with transaction.atomic():
        row = Sequencing.objects.select_for_update().filter(target=target).first()
        old = row.document if row is not None else None
        result = ApplyResult(brand=brand.code, target=target.code, changes=sequencing.diff(old, document),
                             version=row.version if row else 0)
        if dry_run or (row is not None and not result.changes):
            return result
        if row is None:
            row = Sequencing(brand=brand, target=target, version=0)
        row.document, row.version, row.source, row.updated_at = document, row.version + 1, source[:200], at
        row.save()
        record_event(actor=actor, at=at, action="create" if old is None else "update", obj=row, brand=brand,
                     old={"version": row.version - 1} if old is not None else None,
                     new={"version": row.version, "changes": result.lines()[:200]},
                     message=f"sequencing applied from {source or 'a file'}: {result.summary()}"[:500])
        result.applied, result.version = True, row.version
    return result


def export_sequencing(brand, target_code: str = "network") -> str:
    """The brand's sequencing as YAML (the default shipped with Telora when it has none yet)."""
    target = NetworkTarget.objects.filter(brand=brand, code=target_code).first()
    document = sequencing_of(target) or {**sequencing.default_document(), "target": target_code}
    return sequencing.to_yaml(document)


# --- a line's services ------------------------------------------------------------------------------------

def product_services(line) -> set[str]:
    """What the catalogue says the line's current products need at the network: the usage their bundles
    include (voice, sms, mms, data) and the names in their `network_services` attribute."""
    from telora.catalog.models import Allowance, ProductBundle
    from telora.customers.models import ProductInstance

    products = list(ProductInstance.objects.filter(subscription=line, end_at__isnull=True)
                    .select_related("product").values_list("product_id", "product__attributes"))
    services: set[str] = set()
    for _, attributes in products:
        named = (attributes or {}).get("network_services") or []
        services.update(str(n) for n in (named if isinstance(named, list) else [named]))
    bundles = ProductBundle.objects.filter(product_id__in=[pk for pk, _ in products]).values_list("bundle_id")
    services.update(Allowance.objects.filter(bundle_id__in=bundles).values_list("service", flat=True))
    return services


def network_services(line) -> set[str]:
    """The services Telora has enabled at the network for the line (its completed requests, in order)."""
    enabled: set[str] = set()
    done = (ProvisioningRequest.objects.filter(subscription=line, state="completed",
                                               operation__in=("create", "change_services", "delete"))
            .order_by("id").values_list("operation", "payload"))
    for operation, payload in done:
        if operation in ("create", "delete"):
            enabled = set()
        elif isinstance(payload.get("services"), dict):
            for name, on in payload["services"].items():
                (enabled.add if on else enabled.discard)(name)
    return enabled


def services_for(line, document: dict | None, operation: str) -> set[str]:
    """The services a step's `when`/`unless` are read against. Termination removes whatever the network has
    too (the products may have ended before the line is deleted)."""
    services = sequencing.line_services(document, line.service_type, product_services(line))
    if operation == "terminate":
        services |= network_services(line)
    return services


# --- queueing an operation --------------------------------------------------------------------------------

def plan(brand, line, operation: str) -> list[sequencing.Step]:
    """The steps `operation` becomes for the line, in order (read only: the page and tests show it)."""
    from telora.provisioning.services import target_for

    document = sequencing_of(target_for(brand))
    return sequencing.expand(document, operation, services_for(line, document, operation))


def queue_operation(brand, line, operation: str, *, key: str, payload: dict, order=None, flow_instance=None,
                    step_key: str = "", actor: Actor, at: dt.datetime) -> list[ProvisioningRequest]:
    """Queue the requests of one order operation for a line, in its sequencing's order. `key` identifies the
    operation (the flow step): each request's idempotency key is `key:<step>`, so the same key again finds
    the requests made the first time. Without a sequencing the operation is its one request, keyed `key`."""
    from telora.provisioning.services import create_request, target_for

    if operation not in sequencing.ORDER_OPERATIONS:
        raise ServiceError(f"operation: one of {', '.join(sequencing.ORDER_OPERATIONS)}", field="operation")
    existing = list(ProvisioningRequest.objects.filter(Q(group_key=key) | Q(idempotency_key=key), brand=brand)
                    .order_by("position", "id"))
    if existing:
        return existing
    target = target_for(brand)
    if target is None:
        raise ServiceError(f"target: {brand.code} has no network target configured", field="target")
    document = sequencing_of(target)
    if document is None:
        only = sequencing.SINGLE_STEP[operation]
        return [create_request(brand, operation=only, payload=payload, idempotency_key=key, target=target,
                               subscription=line, order=order, flow_instance=flow_instance, step_key=step_key,
                               actor=actor, at=at)]
    steps = sequencing.expand(document, operation, services_for(line, document, operation))
    requests = []
    with transaction.atomic():
        for position, step in enumerate(steps):
            body = dict(payload)
            if step.operation == "change_services" and step.services:
                body["services"] = dict(step.services)
            requests.append(create_request(
                brand, operation=step.operation, payload=body, target=target,
                idempotency_key=f"{key}:{step.name}"[:160], subscription=line, order=order, flow_instance=flow_instance,
                step_key=step_key, group_key=key, step=step.name, position=position, actor=actor, at=at))
    return requests


def group_of(request: ProvisioningRequest) -> list[ProvisioningRequest]:
    """The requests of the request's group in order (the request alone outside a group)."""
    if not request.group_key:
        return [request]
    return list(ProvisioningRequest.objects.filter(brand_id=request.brand_id, group_key=request.group_key)
                .order_by("position", "id"))


def group_state(requests: list[ProvisioningRequest]) -> tuple[str, ProvisioningRequest | None]:
    """("completed", None) when every request is done, ("failed", the failed one) when one failed (the rest
    then is blocked or done), ("waiting", None) while one is open."""
    if any(r.state in OPEN for r in requests):
        return "waiting", None
    failed = next((r for r in requests if r.state == "failed"), None) or \
        next((r for r in requests if r.state == "cancelled"), None)
    return ("failed", failed) if failed is not None else ("completed", None)


# --- hooks of services.py ---------------------------------------------------------------------------------

def block_rest(request: ProvisioningRequest, *, at: dt.datetime) -> int:
    """A step failed: the later steps of its group are not sent (cancelled, `blocked`). In the failing
    request's own transaction, so no worker sends them in between."""
    if not request.group_key:
        return 0
    return (ProvisioningRequest.objects.filter(brand_id=request.brand_id, group_key=request.group_key,
                                               position__gt=request.position, state="queued")
            .exclude(pk=request.pk)
            .update(state="cancelled", completed_at=at, next_try_at=None, updated_at=at, error_code="blocked",
                    error=f"blocked: step {request.step or request.operation} failed"))


def group_open(request: ProvisioningRequest) -> bool:
    """Whether another request of the request's group has not ended yet (its flow is told at the end)."""
    return bool(request.group_key) and (
        ProvisioningRequest.objects.filter(brand_id=request.brand_id, group_key=request.group_key)
        .exclude(pk=request.pk).exclude(state__in=TERMINAL).exists())


def kick_line(subscription_id: int) -> None:
    """The line's next queued request, sent now that the one before it ended (the periodic job would)."""
    from telora.provisioning.services import kick

    following = (ProvisioningRequest.objects.filter(subscription_id=subscription_id, state="queued")
                 .order_by("id").values_list("pk", flat=True).first())
    if following is not None:
        kick(following)


def resend_group(request: ProvisioningRequest, *, actor: Actor, at: dt.datetime) -> list[ProvisioningRequest]:
    """Retry from the desk: the failed step and the steps it blocked are sent again (fresh keys), in order."""
    from telora.provisioning.services import resend

    again = [r for r in group_of(request) if r.state in ("failed", "cancelled")]
    return [resend(r, actor=actor, at=at) for r in again]


def undo_group(request: ProvisioningRequest, *, actor: Actor, at: dt.datetime) -> dict:
    """A cancelled order: the steps not sent yet are cancelled; if the network did any, the opposite
    operation is queued for the line (a created subscriber is terminated, a bar lifted)."""
    from telora.provisioning.services import cancel_request

    members = group_of(request)
    cancelled = []
    for member in members:
        if member.state == "queued" and not member.tries:
            cancel_request(member, reason="the order was cancelled", actor=actor, at=at)
            cancelled.append(member.pk)
    acted = [m for m in members if m.pk not in cancelled and m.state not in ("failed", "cancelled")]
    operation = _order_operation(members)
    opposite = OPPOSITE.get(operation)
    if not acted or opposite is None or request.subscription is None:
        return {"request": request.pk, "cancelled": cancelled}
    from telora.provisioning.tasks import payload_for

    undo = queue_operation(request.brand, request.subscription, opposite, key=f"{request.group_key}:undo",
                           payload=payload_for(request.subscription, sequencing.SINGLE_STEP[opposite]),
                           order=request.order, actor=actor, at=at)
    return {"request": request.pk, "cancelled": cancelled, "undo_request": undo[0].pk}


def _order_operation(members) -> str:
    first = members[0].operation
    return {"create": "activate", "bar": "suspend", "unbar": "resume"}.get(first, "")
