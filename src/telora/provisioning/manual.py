"""The manual adapter's work as a desk task on the workflows desk of its target.

A request sent to a `manual` target waits in state `sent` for a person to do it at the operator. So that
the person finds it where all other work waits, Telora starts a small flow for it: one user task at the
target's desk ("Provision by hand", with the operator's reference as its form; reject it with the reason
when it cannot be done), then the service task `provisioning.record_manual_outcome`, which records the
outcome through `services.complete_by_hand` — the same effect as the request page's form.

Why a wrapper flow rather than a "standalone" desk task: a desk task (`HumanTask`) is a BPMN user task of
an instance, and every desk screen, the API, claiming, due times, escalation and the audit already work
on those. A flow per target (`provisioning_manual_<target>`, the brand's own, published here the first
time it is needed, and again when the target's desk changes) costs no change to the workflows app, shows
on the brand's flow list, and can be edited there like any flow (a due time, an escalation).

Seams: `record_outcomes` opens the task when the manual adapter answers `waiting` (in the same
transaction, in a savepoint: a failure leaves the request in the log and the periodic job tries again,
`open_missing`); `complete_by_hand` from the request page cancels the open task (the desk then shows it
done elsewhere); the task's completion calls `complete_by_hand` with the person's name.
"""

from __future__ import annotations

import datetime as dt
import logging
from xml.sax.saxutils import quoteattr

from django.db import transaction

from telora.core.services import Actor, ServiceError
from telora.provisioning.models import ProvisioningRequest

logger = logging.getLogger(__name__)

SUBJECT = "provisioning.request"
TASK_ELEMENT = "do_by_hand"
DUE = "P1D"
ACTOR = Actor.system("provisioning")

FLOW = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:telora="https://telora.org/bpmn"
    id="defs_provisioning_manual" targetNamespace="https://telora.org/flows">
  <bpmn:process id="provisioning_manual" name="Provisioning by hand at {name}" isExecutable="true"
      telora:failureDesk={desk}>
    <bpmn:startEvent id="start" name="A request for {name}"/>
    <bpmn:userTask id="do_by_hand" name="Provision by hand at {name}" telora:desk={desk} telora:due="{due}">
      <bpmn:extensionElements>
        <telora:field name="reference" label="Operator's reference (done); reject with the reason when it cannot be done" type="text" required="true"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:serviceTask id="record" name="Record the outcome" telora:task="provisioning.record_manual_outcome">
      <bpmn:extensionElements>
        <telora:input name="request" expression="provisioning_request"/>
        <telora:input name="failed" expression="rejected"/>
        <telora:input name="reference" expression="'' if rejected else reference"/>
        <telora:input name="reason" expression="reject_reason if rejected else ''"/>
        <telora:output name="state" target="provisioning_state"/>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end" name="Recorded"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="do_by_hand"/>
    <bpmn:sequenceFlow id="f2" sourceRef="do_by_hand" targetRef="record"/>
    <bpmn:sequenceFlow id="f3" sourceRef="record" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def flow_key(target) -> str:
    return f"provisioning_manual_{target.code}"


def flow_xml(target) -> str:
    name = target.name.replace("&", "and").replace("<", "").replace(">", "").replace('"', "")[:100]
    return FLOW.format(name=name, desk=quoteattr(target.desk), due=DUE)


def ensure_flow(target, *, actor: Actor, at: dt.datetime):
    """The target's manual flow, published (and its desk created) when missing, or again when the published
    one's desk is not the target's; an edited flow with the right desk is kept as it is."""
    from telora.workflows.models import Desk, FlowVersion
    from telora.workflows.services import create_desk, publish_flow

    latest = (FlowVersion.objects.filter(definition__key=flow_key(target), definition__brand=target.brand,
                                         state=FlowVersion.PUBLISHED).order_by("-number").first())
    if latest is not None and latest.extensions.get(TASK_ELEMENT, {}).get("desk") == target.desk:
        return latest
    if not Desk.objects.filter(brand=target.brand, code=target.desk).exists():
        create_desk(target.brand, target.desk, f"{target.name}: provisioning by hand", actor=actor, at=at)
    return publish_flow(flow_key(target), flow_xml(target), brand=target.brand,
                        name=f"Provisioning by hand at {target.name}", actor=actor, at=at)


def _open_instances(request_ids):
    from telora.workflows.models import FlowInstance

    return FlowInstance.objects.filter(subject_type=SUBJECT, subject_id__in=[str(pk) for pk in request_ids],
                                       state__in=(FlowInstance.RUNNING, FlowInstance.WAITING))


def open_desk_task(request_id: int, *, at: dt.datetime):
    """Start the desk task of a manual request waiting for a person (once: an open one is returned)."""
    from telora.workflows.services import start_instance

    with transaction.atomic():
        request = (ProvisioningRequest.objects.select_for_update(of=("self",)).select_related("target", "brand")
                   .filter(pk=request_id).first())
        if request is None or request.state != "sent" or request.target.adapter != "manual":
            return None
        existing = _open_instances([request.pk]).first()
        if existing is not None:
            return existing
        version = ensure_flow(request.target, actor=ACTOR, at=at)
        return start_instance(flow_key(request.target), brand=request.brand, version=version,
                              data={"provisioning_request": request.pk}, subject_type=SUBJECT,
                              subject_id=str(request.pk), correlation=f"provisioning:{request.pk}",
                              subject_label=label_of(request), actor=ACTOR, at=at)


def open_desk_tasks(request_ids, *, at: dt.datetime) -> int:
    """The desk tasks of manual requests that just went to a person; one that cannot be opened (no
    workflows, a broken flow) is logged and left to `open_missing` (the request stays in the log)."""
    if not _workflows_installed():
        return 0
    opened = 0
    for pk in request_ids:
        try:
            with transaction.atomic():
                opened += open_desk_task(pk, at=at) is not None
        except Exception as exc:  # noqa: BLE001  (rolled back to its savepoint: the answer is recorded all the same)
            logger.warning("provisioning: no desk task for manual request %s: %s", pk, exc)
    return opened


def open_missing(*, at: dt.datetime, brand_ids=None, limit: int = 500) -> int:
    """The periodic job's pass: manual requests waiting for a person with no open desk task."""
    if not _workflows_installed():
        return 0
    from django.db.models import Exists, OuterRef
    from django.db.models.functions import Cast

    from telora.workflows.models import FlowInstance

    open_flow = FlowInstance.objects.filter(subject_type=SUBJECT, subject_id=Cast(OuterRef("pk"), output_field=
                                            FlowInstance._meta.get_field("subject_id")),
                                            state__in=(FlowInstance.RUNNING, FlowInstance.WAITING))
    waiting = ProvisioningRequest.objects.filter(state="sent", target__adapter="manual").exclude(Exists(open_flow))
    if brand_ids is not None:
        waiting = waiting.filter(brand_id__in=brand_ids)
    return open_desk_tasks(list(waiting.order_by("id").values_list("pk", flat=True)[:limit]), at=at)


def close_desk_tasks(request: ProvisioningRequest, *, reason: str, actor: Actor, at: dt.datetime,
                     keep: int | None = None) -> int:
    """The request was answered elsewhere (its page): its open desk task is closed (the flow cancelled);
    `keep` is the instance recording the answer itself."""
    if not _workflows_installed():
        return 0
    from telora.workflows.services import cancel_instance

    closed = 0
    for instance in _open_instances([request.pk]).exclude(pk=keep):
        cancel_instance(instance, reason=reason, actor=actor, at=at)
        closed += 1
    return closed


def open_tasks_by_request(request_ids) -> dict:
    """request id -> its open desk task (for the screens' links)."""
    if not request_ids or not _workflows_installed():
        return {}
    from telora.workflows.models import HumanTask

    tasks = (HumanTask.objects.open().filter(instance__subject_type=SUBJECT,
                                             instance__subject_id__in=[str(pk) for pk in request_ids])
             .select_related("desk", "instance"))
    return {int(task.instance.subject_id): task for task in tasks}


def _workflows_installed() -> bool:
    from django.apps import apps

    return apps.is_installed("telora.workflows")


# --- the flow's service task and subject ---------------------------------------------------------------

def record(ctx, *, request, failed=False, reference="", reason=""):
    """The desk task's outcome, recorded as the request page's form records it (by the person who did it).
    A request answered meanwhile (on its page) keeps that answer."""
    from telora.provisioning import services
    from telora.workflows.models import HumanTask
    from telora.workflows.registry import TaskError

    found = ProvisioningRequest.objects.filter(pk=request, brand=ctx.brand).first()
    if found is None:
        raise TaskError("unknown_request", f"no provisioning request {request} in {ctx.brand.code}")
    if found.finished:
        return {"state": found.state}
    person = (HumanTask.objects.filter(instance=ctx.instance, element=TASK_ELEMENT, closed_at__isnull=False)
              .order_by("-closed_at", "-id").values_list("closed_by", flat=True).first())
    try:
        done = services.complete_by_hand(found, reference=str(reference or "")[:120], failed=bool(failed),
                                         reason=str(reason or "")[:2000], by=person or "", desk_instance=ctx.instance.pk,
                                         actor=ctx.actor, at=ctx.at)
    except ServiceError as exc:
        raise TaskError(exc.code, exc.message) from exc
    return {"state": done.state}


def label_of(request: ProvisioningRequest) -> str:
    customer = request.subscription.customer.name if request.subscription_id else ""
    return f"{request.get_operation_display()} {request.payload.get('msisdn', '')} {customer}".strip()[:200]


def _request_of(instance) -> ProvisioningRequest | None:
    return (ProvisioningRequest.objects.select_related("target", "subscription__customer")
            .filter(pk=int(instance.subject_id) if instance.subject_id.isdigit() else 0).first())


def label(instance) -> str:
    request = _request_of(instance)
    return label_of(request) if request is not None else f"provisioning request {instance.subject_id}"


def describe(instance):
    """Beside the desk task: what to do at the operator (the request's payload, secrets masked)."""
    from django.urls import reverse

    request = _request_of(instance)
    if request is None:
        return (f"provisioning request {instance.subject_id}", "", [])
    payload = request.shown_payload()
    facts = [("Operation", request.get_operation_display()), ("Target", request.target.name),
             ("Number", payload.get("msisdn", "")), ("ICCID", payload.get("iccid", "")),
             ("IMSI", payload.get("imsi", "")), ("Services", ", ".join(map(str, payload.get("services") or []))),
             ("State", request.state), ("Idempotency key", request.idempotency_key)]
    if request.subscription_id:
        facts.insert(0, ("Customer", f"{request.subscription.customer.number} {request.subscription.customer.name}"))
    return (label_of(request), reverse("provisioning:request", args=[request.pk]), [(k, v) for k, v in facts if v])


def register() -> None:
    from telora.workflows.registry import register_subject, service_task, service_tasks

    if "provisioning.record_manual_outcome" not in {spec.key for spec in service_tasks()}:
        service_task("provisioning.record_manual_outcome",
                     inputs={"request": int, "failed": bool, "reference": str, "reason": str},
                     outputs={"state": str},
                     description="Provisioning: record a person's outcome of a manual request (done with the "
                                 "operator's reference, or failed with the reason)")(record)
    register_subject(SUBJECT, describe=describe, label=label)
