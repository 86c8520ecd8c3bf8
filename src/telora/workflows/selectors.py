"""Reads shared by the desk screens, the flow documentation and other apps."""

from __future__ import annotations

import datetime as dt
import functools

from django.db.models import DateTimeField, F, IntegerField, Q
from django.db.models.expressions import RawSQL

from telora.core import rights
from telora.workflows.engine.spiff import due_label, parse_flow
from telora.workflows.models import Desk, FlowVersion, HumanTask

TASK_FILTERS = ("kind", "age", "due", "subject")
DESK_PAGE = 50  # tasks a desk page shows (the top of the queue); the others by narrowing the filters
COUNT_CAP = 10_000  # a desk page counts its open tasks up to here and says "10,000+" beyond (never all of them)
# The columns a desk page shows: the flow's document, the instance's state and the task's form stay unread.
PAGE_COLUMNS = ("id", "brand_id", "desk_id", "instance_id", "name", "kind", "state", "subject_label", "due_at",
                "created_at", "assignee_id")


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
    """The brand's desks the user may see, each with its open and overdue tasks counted up to COUNT_CAP
    (`open_beyond`/`overdue_beyond` say "more") and its oldest open task: three index probes per desk,
    however many tasks wait."""
    from telora.core import clock

    now = clock.now()
    table = HumanTask._meta.db_table
    open_sql = f"t.desk_id = {Desk._meta.db_table}.id AND t.state IN ('open', 'claimed')"

    def capped(extra: str = "") -> str:
        return f"(SELECT count(*) FROM (SELECT 1 FROM {table} t WHERE {open_sql}{extra} LIMIT %s) capped)"

    return (Desk.objects.for_user(user).filter(brand=brand)
            .annotate(open_count=RawSQL(capped(), (COUNT_CAP + 1,), output_field=IntegerField()),
                      overdue_count=RawSQL(capped(" AND t.due_at < %s"), (now, COUNT_CAP + 1),
                                           output_field=IntegerField()),
                      oldest=RawSQL(f"(SELECT t.created_at FROM {table} t WHERE {open_sql} ORDER BY t.created_at "
                                    "LIMIT 1)", (), output_field=DateTimeField())))


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
    subject (text in the subject label).

    Each row carries only what the page shows (PAGE_COLUMNS, the flow's key and version number, the
    assignee's name): selecting the instance and its version would read the serialized workflow and the
    BPMN document once per row. Every filter has its index over open tasks (models.HumanTask.Meta):
    the queue in due order, the same per kind, and the subject's trigram index."""
    return (matching_tasks(desk, filters=filters, at=at).order_by("due_at", "created_at", "id").only(*PAGE_COLUMNS)
            .annotate(flow_key=F("instance__version__definition__key"), flow_number=F("instance__version__number"),
                      assignee_name=F("assignee__username")))


def task_page(desk: Desk, *, filters: dict, at: dt.datetime, after: tuple | None = None,
              size: int | None = None) -> tuple[list, bool]:
    """One page of the desk's queue (open_tasks) and whether more follow. `after` is the (due_at,
    created_at, id) of the previous page's last row: the next page starts right after it (keyset paging),
    read from the queue index whatever the page's depth. The queue has two parts, tasks with a due time
    in due order and then those without one in age order, each a range of the index."""
    size = size or DESK_PAGE
    tasks = open_tasks(desk, filters=filters, at=at)
    if after is None:
        rows = list(tasks[:size + 1])
    elif after[0] is not None:
        due, created, pk = after
        rows = list(tasks.filter(due_at__gte=due).filter(
            Q(due_at__gt=due) | Q(due_at=due, created_at__gt=created) | Q(due_at=due, created_at=created, id__gt=pk))
            [:size + 1])
        if len(rows) <= size:
            rows += list(tasks.filter(due_at__isnull=True)[:size + 1 - len(rows)])
    else:
        _due, created, pk = after
        rows = list(tasks.filter(due_at__isnull=True, created_at__gte=created)
                    .filter(Q(created_at__gt=created) | Q(id__gt=pk))[:size + 1])
    return rows[:size], len(rows) > size


def matching_tasks(desk: Desk, *, filters: dict, at: dt.datetime):
    """The open tasks of a desk that pass the filters (no order, no joins: for counting)."""
    tasks = HumanTask.objects.open().filter(desk=desk)
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


def capped_count(tasks, cap: int | None = None) -> tuple[int, bool]:
    """How many rows `tasks` (matching_tasks) has, counted up to `cap` (an index scan of at most cap + 1
    entries): (count, True) when there are more than `cap`."""
    cap = COUNT_CAP if cap is None else cap
    count = tasks.order_by().values("pk")[:cap + 1].count()
    return min(count, cap), count > cap


def steps_table(xml: str, process_id: str | None = None) -> list[dict]:
    """One row per step of a flow: element, type, name, desk, service task, timers, conditions."""
    from lxml import etree

    from telora.workflows.engine.spiff import BPMN_NS

    parsed = parse_flow(xml, process_id)
    root = etree.fromstring(xml.encode())
    timers = {}
    business = parsed.business_timers
    for element, expression, _line in parsed.timers:
        timers.setdefault(element, []).append(expression.strip('"') + (" business" if element in business else ""))
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
            "service_task": ext.get("task", ""), "due": due_label(ext),
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


def shipped_holidays(country: str) -> list[list[str]]:
    """The public holidays Telora ships for a country (core/data/holidays/<COUNTRY>.csv): [[date, name]]."""
    return [list(pair) for pair in _shipped_holidays((country or "").upper()[:2])]


@functools.cache
def _shipped_holidays(country: str) -> tuple[tuple[str, str], ...]:
    import csv
    from pathlib import Path

    import telora.core

    path = Path(telora.core.__file__).parent / "data" / "holidays" / f"{country}.csv"
    if not country.isalpha() or not path.is_file():
        return ()
    with path.open(encoding="utf-8") as handle:
        return tuple((row["date"], row["name"]) for row in csv.DictReader(handle))


def calendar_settings(brand) -> dict:
    """The brand's calendar as the operator sees it: its own row, else the country's weekend and shipped holidays."""
    from telora.core.calendar import weekend_of
    from telora.workflows.models import BusinessCalendar

    row = BusinessCalendar.objects.filter(brand=brand).first()
    if row is None:
        return {"weekend": list(weekend_of(brand.country)), "opens": dt.time(8, 0), "closes": dt.time(17, 0),
                "holidays": shipped_holidays(brand.country), "saved": False}
    return {"weekend": list(row.weekend), "opens": row.opens,
            "closes": row.closes, "holidays": [list(h) for h in row.holidays], "saved": True}


def calendar_for(brand):
    """The brand's business calendar as the pure engine's plain data (core.calendar.BusinessCalendar)."""
    from telora.core.calendar import BusinessCalendar

    settings = calendar_settings(brand)
    return BusinessCalendar(timezone=brand.timezone, weekend=tuple(settings["weekend"]),
                            holidays=frozenset(dt.date.fromisoformat(day) for day, _name in settings["holidays"]),
                            opens=settings["opens"], closes=settings["closes"])
