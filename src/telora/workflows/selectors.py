"""Reads shared by the desk screens, the flow documentation and other apps."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Min, Q

from telora.core import rights
from telora.workflows.engine.spiff import parse_flow
from telora.workflows.models import Desk, FlowVersion, HumanTask

TASK_FILTERS = ("kind", "age", "due", "subject")
DESK_PAGE = 200  # tasks a desk page shows; more are reached by narrowing the filters (the queue is read in order)


def latest_version(key: str, brand):
    """The version of flow `key` an instance starts on in `brand`: the brand's own latest published
    one, else the standard one's (one query; the document itself is read only to parse it once)."""
    if not key:
        return None
    return (FlowVersion.objects.filter(Q(definition__brand=brand) | Q(definition__brand__isnull=True),
                                       definition__key=key, state=FlowVersion.PUBLISHED)
            .select_related("definition").defer("bpmn_xml")
            .order_by(F("definition__brand_id").asc(nulls_last=True), "-number").first())


def desks_with_counts(user, brand):
    """The brand's desks the user may see, with open and overdue counts in one query."""
    from telora.core import clock

    now = clock.now()
    open_q = Q(tasks__state__in=(HumanTask.OPEN, HumanTask.CLAIMED))
    return (Desk.objects.for_user(user).filter(brand=brand)
            .annotate(open_count=Count("tasks", filter=open_q),
                      overdue_count=Count("tasks", filter=open_q & Q(tasks__due_at__lt=now)),
                      oldest=Min("tasks__created_at", filter=open_q)))


def may_work(user, desk: Desk) -> bool:
    """workflows.work in the desk's brand, and one of the desk's roles when it names any."""
    if not rights.has_perm(user, desk.brand, "workflows.work"):
        return False
    role_ids = set(desk.roles.values_list("pk", flat=True))
    if not role_ids or rights.is_system_admin(user):
        return True
    return user.grants.filter(brand=desk.brand, role_id__in=role_ids).exists()


def open_tasks(desk: Desk, *, filters: dict, at: dt.datetime):
    """A desk's open tasks, filtered: kind (user/failure), age (older than N hours), due (overdue/today),
    subject (text in the subject label)."""
    # In the page's order (due first, then oldest) straight from the partial index workflows_task_desk_queue:
    # a page costs the same with a hundred or a hundred thousand tasks waiting.
    tasks = (HumanTask.objects.open().filter(desk=desk).order_by("due_at", "created_at", "id")
             .select_related("assignee", "instance__version__definition"))
    if filters.get("kind") in (HumanTask.USER, HumanTask.FAILURE):
        tasks = tasks.filter(kind=filters["kind"])
    age = str(filters.get("age") or "")
    if age.isdigit() and int(age) < 100_000:
        tasks = tasks.filter(created_at__lte=at - dt.timedelta(hours=int(age)))
    if filters.get("due") == "overdue":
        tasks = tasks.filter(due_at__lt=at)
    elif filters.get("due") == "today":
        tasks = tasks.filter(due_at__lt=at + dt.timedelta(days=1))
    subject = str(filters.get("subject") or "")[:100].strip()
    if subject:
        tasks = tasks.filter(subject_label__icontains=subject)
    return tasks


def steps_table(xml: str, process_id: str | None = None) -> list[dict]:
    """One row per step of a flow: element, type, name, desk, service task, timers, conditions."""
    from lxml import etree

    from telora.workflows.engine.spiff import BPMN_NS

    parsed = parse_flow(xml, process_id)
    root = etree.fromstring(xml.encode())
    timers = {}
    for element, expression, _line in parsed.timers:
        timers.setdefault(element, []).append(expression.strip('"'))
    rows = []
    attached = {}
    for boundary in root.iter(f"{{{BPMN_NS}}}boundaryEvent"):
        attached.setdefault(boundary.get("attachedToRef"), []).append(boundary.get("id"))
    conditions = {}
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        for condition in flow.iter(f"{{{BPMN_NS}}}conditionExpression"):
            conditions.setdefault(flow.get("sourceRef"), []).append(
                f"→ {flow.get('targetRef')} if {(condition.text or '').strip()}")
    process = next(p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id") == parsed.process_id)
    for gateway in process:
        default = next((f for f in process.iter(f"{{{BPMN_NS}}}sequenceFlow") if f.get("id") == gateway.get("default")),
                       None)
        if default is not None:
            conditions.setdefault(gateway.get("id"), []).append(f"→ {default.get('targetRef')} otherwise")
    for node in process:
        tag = etree.QName(node).localname
        if tag in ("sequenceFlow", "extensionElements", "laneSet", "documentation") or not node.get("id"):
            continue
        if node.find(f"{{{BPMN_NS}}}errorEventDefinition") is not None:
            tag += " (error)"  # an error end event: the instance fails with the reason
        ext = parsed.extensions.get(node.get("id"), {})
        boundaries = attached.get(node.get("id"), [])
        rows.append({
            "element": node.get("id"), "type": tag, "name": node.get("name", ""), "desk": ext.get("desk", ""),
            "service_task": ext.get("task", ""), "due": ext.get("due", ""),
            "timers": ", ".join(timers.get(node.get("id"), []) + [t for b in boundaries for t in timers.get(b, [])]),
            "conditions": "; ".join(conditions.get(node.get("id"), [])),
            "undo": _undo_of(ext.get("task", "")),
        })
    return rows


def _undo_of(key: str) -> str:
    """What cancelling an instance does about a completed service task (its registered undo)."""
    from telora.workflows.registry import get_service_task

    if not key:
        return ""
    try:
        spec = get_service_task(key)
    except KeyError:
        return ""
    return spec.undo_description if spec.undo is not None else ""
