"""Running instances: start, advance step by step, desk tasks, messages, timers, retries, cancel.

A step's effects, its FlowStep row and the instance's new serialized state always commit together, so
a worker killed mid-flow either committed a step or did not start it, and a rerun repeats nothing. The
instance row is locked (SELECT FOR UPDATE, that row only) while steps run, so two workers never advance
the same instance.

How many steps one transaction holds depends on who asks:
- on its own (a worker, the timer job, a message), `advance_instance` commits after every step: a long
  flow makes durable progress step by step (tests/workflows/test_workflows_kill.py pins this);
- inside a caller's transaction (an order started in `start_order`'s transaction), and for a desk task's
  completion with the automatic steps it sets off (`complete_task`), the steps run back to back in that
  one transaction, within one savepoint, and the state is serialized and saved once at its end. The
  guarantee is the same (the effects and the state commit together or not at all), at a fraction of the
  round trips: the instance is locked, read and deserialized once, the step log is inserted in one
  statement, and the desk tasks, waits and the subject are updated once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from decimal import Decimal, InvalidOperation

from django.db import transaction
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from telora.core.services import Actor, ServiceError
from telora.core.services.actors import PermissionDeniedError
from telora.core.services.audit import batched, record_event
from telora.workflows import registry
from telora.workflows.engine import spiff
from telora.workflows.engine.evaluator import ExpressionError, evaluate
from telora.workflows.models import Desk, FlowInstance, FlowStep, FlowVersion, HumanTask
from telora.workflows.selectors import latest_version, may_work

MAX_ATTEMPTS = 5  # tries of a service task failing transiently before it goes to a desk
BACKOFF = dt.timedelta(seconds=30)  # first retry after 30 s, then 60, 120, 240
MAX_STEPS_PER_ADVANCE = 200  # a loop of engine-only steps stops here and waits for the timer job
TIMER_EVENTS = ("TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition")
MAX_DATA = 256_000  # bytes of an instance's data as JSON
FAILURE_FIELDS = [{"name": "action", "label": "Action", "type": "choice", "required": True,
                   "choices": ["retry", "skip", "abort"]}]


def flow_actor(instance: FlowInstance, after: Actor | None = None) -> Actor:
    """Who a flow's automatic steps act as once a person or a partner has resumed it: the flow itself, a
    platform job named after the instance, never the desk user (whose desk role need not hold the rights of
    the steps after it; the flow was authorised when its order was taken). The request id of `after` is
    kept, so the audit links the desk step to the automatic steps it let run."""
    key = instance.version.definition.key if instance.version_id else "flow"
    return Actor(job=f"flow:{key}#{instance.pk}"[:120], request_id=getattr(after, "request_id", "") or "")


def _json_size(value) -> int:
    return len(json.dumps(value, default=str))


def _latest_version(key: str, brand) -> FlowVersion:
    version = latest_version(key, brand)
    if version is None:
        raise ServiceError(f"no published flow {key!r} for {brand.code}", field="flow")
    return version


def _lock(pk: int) -> FlowInstance:
    """The instance row locked (not its version's or brand's rows, which every instance shares)."""
    return (FlowInstance.objects.select_for_update(of=("self",))
            .select_related("version__definition", "brand").defer("version__bpmn_xml").get(pk=pk))


def _in_transaction() -> bool:
    return transaction.get_connection().in_atomic_block


def _notify(instance: FlowInstance, event: str) -> None:
    hook = registry.subject_hook(instance.subject_type) if instance.subject_type else None
    if hook is not None and hook.on_change is not None:
        hook.on_change(instance, event)


def _step(instance, task, kind, *, actor_label, at, **values) -> FlowStep:
    """A step log row, inserted with the others of the transaction by `_flush_steps` (one statement)."""
    step = FlowStep(
        instance=instance, task_id=str(task.id) if task is not None else "",
        element=task.task_spec.bpmn_id or "" if task is not None else "",
        name=(task.task_spec.bpmn_name or task.task_spec.bpmn_id or "") if task is not None else "",
        kind=kind, actor=actor_label[:200], started_at=values.pop("started_at", at), ended_at=at, **values)
    instance.__dict__.setdefault("_pending_steps", []).append(step)
    attempts = instance.__dict__.get("_attempts")
    if kind == "service" and attempts is not None:
        attempts[step.task_id] += 1
    return step


def _flush_steps(instance) -> None:
    """Insert the step rows logged since the last flush (before anything reads the step log, and before
    the transaction ends)."""
    pending = instance.__dict__.get("_pending_steps")
    if pending:
        FlowStep.objects.bulk_create(pending)
        pending.clear()


def last_step(instance, task_id: str) -> FlowStep | None:
    """The latest step logged for a task of the instance, the ones not yet inserted included: a service
    task asking how it came to run again (e.g. retried from a failure desk) reads it here, not from the
    table, since the steps of a transaction are inserted together at its end."""
    for step in reversed(instance.__dict__.get("_pending_steps", ())):
        if step.task_id == task_id:
            return step
    return FlowStep.objects.filter(instance=instance, task_id=task_id).order_by("-id").first()


def _attempt(instance, task_id: str) -> int:
    """The try number of a service task's next run (its earlier service steps + 1), counted once per
    locked instance for all its tasks; a task that became ready in this run needs no count (`_fresh`)."""
    attempts = instance.__dict__.get("_attempts")
    if attempts is None and _fresh(instance, task_id):
        return 1 + sum(1 for s in instance.__dict__.get("_pending_steps", ()) if s.kind == "service"
                       and s.task_id == task_id)
    if attempts is None:
        attempts = Counter(FlowStep.objects.filter(instance=instance, kind="service").values_list("task_id", flat=True))
        attempts.update(s.task_id for s in instance.__dict__.get("_pending_steps", ()) if s.kind == "service")
        instance.__dict__["_attempts"] = attempts
    return attempts[task_id] + 1


def _loaded(instance, workflow):
    """Note the tasks ready in the state just read: only they can have tries logged before this run."""
    instance.__dict__["_ready_at_load"] = {str(t.id) for t in workflow.get_tasks(state=TaskState.READY)}
    return workflow


def _fresh(instance, task_id: str) -> bool:
    """Whether a service task became ready in this run of the instance's steps (it was not ready in the state
    the run started from), so that no earlier try of it exists: a try is logged only while its task is ready,
    in the transaction that saves the state after it, and a task that has left the ready state never comes back
    to it (a loop runs new tasks). Such a task needs no count of its tries and no look-up of its step key."""
    ready = instance.__dict__.get("_ready_at_load")
    return ready is not None and task_id not in ready


def _read_open_tasks(instance) -> None:
    """The instance's open desk tasks, read once per locked instance: the failures waiting at a desk (no
    step runs their task) and the user tasks `_sync_desk_tasks` compares with the ready ones."""
    rows = list(instance.human_tasks.open())
    instance.__dict__["_failing"] = {t.task_id for t in rows if t.kind == HumanTask.FAILURE}
    instance.__dict__["_open_tasks"] = {t.task_id: t for t in rows if t.kind == HumanTask.USER}


def _failing(instance) -> set:
    """Spiff task ids whose failure waits at a desk."""
    if "_failing" not in instance.__dict__:
        _read_open_tasks(instance)
    return instance.__dict__["_failing"]


def start_instance(key: str, *, brand, data: dict, subject_type: str = "", subject_id: str = "",
                   correlation: str = "", actor: Actor, at: dt.datetime, version: FlowVersion | None = None,
                   subject_label: str = "") -> FlowInstance:
    """Start the latest published version of flow `key` for the brand (or `version`, found by the caller
    with `latest_version`) and run it until it waits. `subject_label`: what the subject hook's label would
    say, when the caller has the subject in hand (its desk tasks then do not read it again)."""
    if not isinstance(data, dict) or _json_size(data) > MAX_DATA:
        raise ServiceError(f"flow data must be a JSON object of at most {MAX_DATA} bytes", field="data")
    version = version or _latest_version(key, brand)
    workflow = spiff.new_workflow(spiff.flow_of(version), version)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    together = _in_transaction()  # the caller's transaction: run to the first wait in it, save once
    # In the caller's transaction no savepoint of its own: a failure here fails the caller's whole block (an
    # order's start rolls back and the order fails with the reason), so there is nothing to keep apart.
    with transaction.atomic(savepoint=not together), batched():
        instance = FlowInstance.objects.create(
            brand=brand, version=version, subject_type=subject_type[:64], subject_id=str(subject_id)[:64],
            correlation=(correlation or str(subject_id))[:120], state=FlowInstance.RUNNING,
            state_json="{}" if together else spiff.dump(workflow), data=data, started_at=at, updated_at=at)
        # a new instance has no step, desk task or failure yet: nothing to read back
        instance.__dict__.update(_attempts=Counter(), _failing=set(), _open_tasks={}, _ready_at_load=set())
        if subject_label:
            instance.__dict__["_subject_label"] = subject_label[:200]
        _step(instance, None, "start", actor_label=actor.label, at=at, inputs=data)
        record_event(actor=actor, at=at, action="start", obj=instance, brand=brand,
                     message=f"flow {key} v{version.number} started")
        if together:  # nobody else sees the new row before this transaction commits
            _run_steps(instance, workflow, actor=actor, at=at)
            _save(instance, workflow, at=at)
            return instance
        _flush_steps(instance)
    return advance_instance(instance, actor=actor, at=at)


def advance_instance(instance: FlowInstance, *, actor: Actor, at: dt.datetime) -> FlowInstance:
    """Run the instance until it waits or ends: one transaction per step on its own, or every step in
    the caller's transaction (saved once) when there is one (see the module's docstring)."""
    if _in_transaction():
        with transaction.atomic(), batched():
            locked = _lock(instance.pk)
            if locked.state not in (FlowInstance.RUNNING, FlowInstance.WAITING):
                return locked
            workflow = _loaded(locked, spiff.load(locked.state_json, locked.version))
            _run_steps(locked, workflow, actor=actor, at=at)
            _save(locked, workflow, at=at)
        return locked
    for _ in range(MAX_STEPS_PER_ADVANCE):
        with transaction.atomic(), batched():
            locked = _lock(instance.pk)
            if locked.state not in (FlowInstance.RUNNING, FlowInstance.WAITING):
                return locked
            workflow = _loaded(locked, spiff.load(locked.state_json, locked.version))
            more = _one_step(locked, workflow, actor=actor, at=at)
            _save(locked, workflow, at=at)
        if not more:
            return locked
    return locked


def _run_steps(instance, workflow, *, actor, at) -> None:
    """Steps back to back in the current transaction until the instance waits or ends; the caller saves
    the state once after them (the effects of every step and that state commit together)."""
    for _ in range(MAX_STEPS_PER_ADVANCE):
        if instance.state not in (FlowInstance.RUNNING, FlowInstance.WAITING):
            return
        if not _one_step(instance, workflow, actor=actor, at=at):
            return


def _engine(workflow) -> None:
    workflow.refresh_waiting_tasks()
    workflow.do_engine_steps()
    if spiff.settle_event_gateways(workflow):  # a timer won the race against a message: the flow goes on
        workflow.do_engine_steps()


def _one_step(instance, workflow, *, actor, at) -> bool:
    """Engine steps, then one service task if one is ready. True when another step may follow."""
    try:
        _engine(workflow)
    except (SpiffWorkflowException, ExpressionError, ValueError, TypeError) as exc:  # a timer date from the data
        # that is not a date raises ValueError in Spiff: the instance stops with the reason, the worker goes on
        _fail(instance, workflow, f"the flow stopped: {exc}", actor=actor, at=at)
        return False
    if instance.wake_at and instance.error.startswith("retry") and at < instance.wake_at:
        return False  # a transient failure waits for its backoff
    failing = _failing(instance)
    for task in workflow.get_tasks(state=TaskState.READY):
        if isinstance(task.task_spec, spiff.ServiceTask) and str(task.id) not in failing:
            return _run_service_task(instance, workflow, task, actor=actor, at=at)
    return False


def _run_service_task(instance, workflow, task, *, actor, at) -> bool:
    ext = instance.version.extensions.get(task.task_spec.bpmn_id, {})
    try:
        spec = registry.get_service_task(ext.get("task", ""))
    except KeyError as exc:
        return _permanent(instance, workflow, task, "unknown_task", str(exc), {}, 1, actor=actor, at=at)
    attempt = _attempt(instance, str(task.id))
    step_key = f"{instance.pk}:{task.id}:{attempt}"
    try:
        inputs = {name: evaluate(expression, task.data) for name, expression in ext.get("inputs", {}).items()}
    except ExpressionError as exc:
        return _permanent(instance, workflow, task, "input", f"input mapping: {exc}", {}, attempt, actor=actor, at=at)
    ctx = registry.StepContext(actor=actor, at=at, brand=instance.brand, instance=instance, step_key=step_key,
                               fresh=_fresh(instance, str(task.id)))
    try:
        with transaction.atomic():  # a failed try leaves no effect behind
            outputs = spec.function(ctx, **inputs) or {}
            unknown = sorted(set(outputs) - set(spec.outputs))
            if unknown:
                raise registry.TaskError("bad_output", f"{spec.key} returned undeclared outputs {unknown}")
            _json_size(outputs)
    except registry.TaskError as exc:
        if exc.transient and attempt < MAX_ATTEMPTS:
            _step(instance, task, "service", actor_label=actor.label, at=at, attempt=attempt, step_key=step_key,
                  inputs=_plain(inputs), error=f"{exc.code}: {exc.message} (transient, will retry)")
            instance.wake_at = at + BACKOFF * (2 ** (attempt - 1))
            instance.error = f"retry {spec.key} after {exc.code}: {exc.message}"[:2000]
            return False
        return _permanent(instance, workflow, task, exc.code, exc.message, inputs, attempt, step_key=step_key,
                          actor=actor, at=at)
    except Exception as exc:  # a bug in a task is a permanent failure with its message, not a crash of the worker
        return _permanent(instance, workflow, task, "internal", f"{type(exc).__name__}: {exc}", inputs, attempt,
                          step_key=step_key, actor=actor, at=at)
    _step(instance, task, "service", actor_label=actor.label, at=at, attempt=attempt, step_key=step_key,
          inputs=_plain(inputs), outputs=_plain(outputs))
    for name, value in outputs.items():
        task.data[ext.get("outputs", {}).get(name) or name] = _plain(value)
    instance.error, instance.wake_at = "", None
    task.complete()
    return True


def _plain(value):
    return json.loads(json.dumps(value, default=str))


def _permanent(instance, workflow, task, code, message, inputs, attempt, *, step_key="", actor, at) -> bool:
    """A BPMN error: to the task's error boundary event if the flow has one, else a failure desk task."""
    _step(instance, task, "service", actor_label=actor.label, at=at, attempt=attempt, step_key=step_key,
          inputs=_plain(inputs), error=f"{code}: {message}")
    event = BpmnEvent(ErrorEventDefinition(code, code=code), payload={"error_code": code, "error": message},
                      target=task.workflow)
    catchers = task.workflow.get_tasks(skip_subprocesses=True, state=TaskState.NOT_FINISHED_MASK, catches_event=event)
    if catchers:
        workflow.catch(event)
        _step(instance, task, "error", actor_label=actor.label, at=at, outputs={"code": code}, error=message)
        instance.error, instance.wake_at = "", None
        return True
    desk = Desk.objects.filter(brand=instance.brand, code=instance.version.failure_desk).first()
    if desk is None:
        _fail(instance, workflow, f"{task.task_spec.bpmn_id}: {code}: {message} (no failure desk)", actor=actor, at=at)
        return False
    HumanTask.objects.create(
        brand=instance.brand, instance=instance, desk=desk, task_id=str(task.id), element=task.task_spec.bpmn_id,
        name=f"Handle failure: {task.task_spec.bpmn_name or task.task_spec.bpmn_id}"[:200], kind=HumanTask.FAILURE,
        fields=FAILURE_FIELDS, error=f"{code}: {message}"[:2000], created_at=at, subject_label=_subject_label(instance))
    _failing(instance).add(str(task.id))
    instance.error, instance.wake_at = f"{code}: {message}"[:2000], None
    return False


def _fail(instance, workflow, message, *, actor, at) -> None:
    """The instance stops failed with `message`; what its completed steps did is undone (never half-applied)."""
    _flush_steps(instance)
    compensate(instance, actor=actor, at=at, strict=False)
    instance.state, instance.error, instance.ended_at = FlowInstance.FAILED, message[:2000], at
    _step(instance, None, "failed", actor_label=actor.label, at=at, error=message)
    instance.human_tasks.open().update(state=HumanTask.CANCELLED, closed_at=at, reason="the flow failed")


def _forget_open_task(instance, task) -> None:
    """A desk task closed in this transaction leaves the instance's open tasks read before."""
    for key in ("_failing", "_open_tasks"):
        known = instance.__dict__.get(key)
        if known is not None:
            known.discard(task.task_id) if isinstance(known, set) else known.pop(task.task_id, None)


def _subject_label(instance) -> str:
    label = instance.__dict__.get("_subject_label")
    if label:
        return label
    hook = registry.subject_hook(instance.subject_type) if instance.subject_type else None
    if hook is not None and hook.label is not None:
        return str(hook.label(instance))[:200]
    if hook is not None and hook.describe is not None:
        return str(hook.describe(instance)[0])[:200]
    return f"{instance.subject_type} {instance.subject_id}".strip()[:200]


def _save(instance, workflow, *, at) -> None:
    """Desk tasks, waits and state after a step; the serialized workflow with them (same transaction)."""
    if instance.state not in (FlowInstance.FAILED, FlowInstance.CANCELLED):
        parsed = spiff.flow_of(instance.version)
        calendar = []  # the brand's business calendar, read at most once per save

        def business():
            if not calendar:
                calendar.append(_calendar(instance.brand))
            return calendar[0]

        if parsed.business_timers:
            spiff.business_timers(parsed, workflow, business)  # the calendar read only when a timer needs it
        _sync_desk_tasks(instance, workflow, at=at, business=business)
        waits = workflow.waiting_events()
        instance.waiting_messages = sorted(spiff.waiting_messages(workflow))  # after an event gateway too
        timers = [_moment(w.value) for w in waits if w.event_type in TIMER_EVENTS]
        timers = [t for t in timers if t is not None]
        retry = instance.wake_at if instance.error.startswith("retry") else None
        instance.wake_at = min([*timers, *([retry] if retry else [])], default=None)
        if instance.state != FlowInstance.FAILED:
            refused = spiff.error_end(workflow) if workflow.is_completed() else None
            if refused is not None:  # the flow drew a refusal: the instance fails with its reason, undone
                reason = refused.data.get("refusal_reason") or refused.data.get("reject_reason") or ""
                name = refused.task_spec.bpmn_name or refused.task_spec.bpmn_id
                _fail(instance, workflow, f"{name}: {reason}" if reason else name, actor=Actor.system("engine"), at=at)
                instance.wake_at = None
            elif workflow.is_completed():
                instance.state, instance.ended_at, instance.wake_at = FlowInstance.COMPLETED, at, None
                _step(instance, None, "end", actor_label="engine", at=at)
            else:
                instance.state = FlowInstance.WAITING
    # the deepest completed task carries the data of the path so far (task data is inherited down the tree)
    last = max(workflow.get_tasks(state=TaskState.COMPLETED), key=lambda t: (t.depth, t.last_state_change),
               default=None)
    if last is not None:
        instance.data = _plain(last.data)
    instance.state_json = spiff.dump(workflow)
    instance.updated_at = at
    _flush_steps(instance)
    instance.save()
    _notify(instance, {"completed": "completed", "failed": "failed", "cancelled": "cancelled"}.get(instance.state,
                                                                                                   "waiting"))


def _calendar(brand):
    """The brand's business calendar (read when a business-time due time or timer needs it)."""
    from telora.workflows.selectors import calendar_for

    return calendar_for(brand)


def _moment(value):
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _sync_desk_tasks(instance, workflow, *, at, business) -> None:
    """`business()`: the brand's business calendar (read by the caller when first needed)."""
    ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY) if isinstance(t.task_spec, spiff.UserTask)}
    open_tasks = instance.__dict__.pop("_open_tasks", None)  # read with the failures in this transaction
    if open_tasks is None:
        open_tasks = {t.task_id: t for t in instance.human_tasks.open().filter(kind=HumanTask.USER)}
    for task_id, human in open_tasks.items():
        if task_id not in ready:  # a boundary timer or an error took the flow elsewhere
            human.state, human.closed_at, human.reason = HumanTask.CANCELLED, at, "the flow moved on (escalated)"
            human.save(update_fields=["state", "closed_at", "reason"])
    for task_id, task in ready.items():
        if task_id in open_tasks:
            continue
        ext = instance.version.extensions.get(task.task_spec.bpmn_id, {})
        desk = Desk.objects.filter(brand=instance.brand, code=ext.get("desk", "")).first()
        if desk is None:
            raise ServiceError(f"desk {ext.get('desk')!r} of {task.task_spec.bpmn_id} does not exist in "
                               f"{instance.brand.code}", field="desk")
        due = spiff.due_at(ext["due"], start=at, calendar=ext.get("calendar", ""),
                           business=business() if ext.get("calendar") == spiff.BUSINESS else None) \
            if ext.get("due") else None
        HumanTask.objects.create(
            brand=instance.brand, instance=instance, desk=desk, task_id=task_id, element=task.task_spec.bpmn_id,
            name=(task.task_spec.bpmn_name or task.task_spec.bpmn_id)[:200], fields=ext.get("fields", []),
            due_at=due, created_at=at, subject_label=_subject_label(instance))


# --- desk tasks -------------------------------------------------------------------------------------------

def clean_form(fields: list[dict], data: dict) -> dict:
    """The submitted values of a desk task's form, typed; ServiceError(field=name) for the first bad one."""
    cleaned = {}
    for item in fields:
        name, kind = item["name"], item["type"]
        raw = data.get(name)
        if kind == "checkbox":
            cleaned[name] = raw in (True, "on", "true", "1", 1)
            continue
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if item.get("required"):
                raise ServiceError(f"{item.get('label') or name} is required", field=name)
            cleaned[name] = None
            continue
        if kind in ("text", "file"):
            value = str(raw).strip()
            if len(value) > 2000:
                raise ServiceError(f"{name}: at most 2000 characters", field=name)
        elif kind == "choice":
            value = str(raw)
            if value not in item.get("choices", []):
                raise ServiceError(f"{name}: {value[:40]!r} is not one of {', '.join(item.get('choices', []))}",
                                   field=name)
        elif kind == "date":
            try:
                value = dt.date.fromisoformat(str(raw)).isoformat()
            except ValueError:
                raise ServiceError(f"{name}: {str(raw)[:40]!r} is not a date (YYYY-MM-DD)", field=name) from None
        elif kind == "number":
            try:
                number = Decimal(str(raw))
            except InvalidOperation:
                raise ServiceError(f"{name}: {str(raw)[:40]!r} is not a number", field=name) from None
            if not number.is_finite() or abs(number) >= Decimal(10) ** 15:
                raise ServiceError(f"{name}: {str(raw)[:40]!r} is out of range", field=name)
            value = int(number) if number == number.to_integral_value() else str(number)
        else:
            raise ServiceError(f"{name}: unknown field type {kind!r}", field=name)
        cleaned[name] = value
    return cleaned


def _locked_task(task: HumanTask, actor: Actor, *, instance: FlowInstance | None = None) -> HumanTask:
    """The task locked and checked for the actor. With its `instance` (locked): the instance's open desk tasks
    are locked and read in the same statement and kept for its steps (`_read_open_tasks`)."""
    if instance is not None and instance.pk == task.instance_id:
        rows = list(instance.human_tasks.open().select_for_update(of=("self",)).select_related("desk"))
        for row in rows:
            row.brand = instance.brand  # the instance's brand row, in hand
            if row.desk.brand_id == instance.brand_id:
                row.desk.brand = instance.brand
        instance.__dict__["_failing"] = {t.task_id for t in rows if t.kind == HumanTask.FAILURE}
        instance.__dict__["_open_tasks"] = {t.task_id: t for t in rows if t.kind == HumanTask.USER}
        found = next((row for row in rows if row.pk == task.pk), None)
        if found is not None:
            return _check_task(found, actor)
    task = HumanTask.objects.select_for_update(of=("self",)).select_related("brand", "desk").get(pk=task.pk)
    return _check_task(task, actor)


def _check_task(task: HumanTask, actor: Actor) -> HumanTask:
    if actor.principal is not None and not may_work(actor.principal, task.desk):  # the desk's roles, as the views
        raise PermissionDeniedError(f"You may not work desk {task.desk.code} in brand {task.brand.code}.")
    if task.state not in (HumanTask.OPEN, HumanTask.CLAIMED):
        raise ServiceError(f"this task is {task.state} already", field="state")
    if task.state == HumanTask.CLAIMED and actor.user is not None and task.assignee_id not in (None, actor.user.pk):
        raise ServiceError(f"this task is claimed by {task.assignee}", field="assignee")
    return task


@transaction.atomic
def claim_task(task: HumanTask, *, actor: Actor, at: dt.datetime) -> HumanTask:
    task = _locked_task(task, actor)
    task.state, task.assignee = HumanTask.CLAIMED, actor.user
    task.save(update_fields=["state", "assignee"])
    record_event(actor=actor, at=at, action="claim", obj=task, brand=task.brand)
    return task


@transaction.atomic
def unclaim_task(task: HumanTask, *, actor: Actor, at: dt.datetime) -> HumanTask:
    task = _locked_task(task, actor)
    task.state, task.assignee = HumanTask.OPEN, None
    task.save(update_fields=["state", "assignee"])
    record_event(actor=actor, at=at, action="unclaim", obj=task, brand=task.brand)
    return task


def complete_task(task: HumanTask, *, data: dict, actor: Actor, at: dt.datetime, reject_reason: str = "") -> HumanTask:
    """Complete (or reject, with a reason) a desk task; the flow goes on from it.

    A rejected user task completes its BPMN task with `rejected=True` and `reject_reason` in the data,
    so the flow can route on it. A failure task's action retries, skips or aborts the failed service task.

    The completion and the automatic steps it sets off, up to the next wait, are one transaction with the
    state saved once at its end: the desk task stays open if any of them cannot be done."""
    with transaction.atomic(), batched():
        instance = _lock(task.instance_id)  # the instance first, then its task: the order the engine locks them
        task = _locked_task(task, actor, instance=instance)
        cleaned = clean_form(task.fields, data or {}) if not reject_reason else {}
        workflow = _loaded(instance, spiff.load(instance.state_json, instance.version))
        spiff_task = next((t for t in workflow.get_tasks(state=TaskState.READY) if str(t.id) == task.task_id), None)
        if spiff_task is None:
            raise ServiceError("the flow is no longer at this task", field="state")
        if task.kind == HumanTask.FAILURE:
            action = "abort" if reject_reason else cleaned["action"]
            instance.error = ""
            if action == "skip":
                spiff_task.complete()
            elif action == "abort":
                _fail(instance, workflow, f"aborted at {task.element} by {actor.label}: {task.error}", actor=actor, at=at)
        else:
            if reject_reason:
                spiff_task.data.update({"rejected": True, "reject_reason": reject_reason[:2000]})
            else:
                spiff_task.data.update({**cleaned, "rejected": False})
            spiff_task.run()
        task.state = HumanTask.REJECTED if reject_reason else HumanTask.DONE
        task.result, task.reason, task.closed_at, task.closed_by = cleaned, reject_reason[:2000], at, actor.label[:200]
        task.assignee = task.assignee or actor.user
        task.save()
        _forget_open_task(instance, task)
        instance.__dict__.setdefault("_subject_label", task.subject_label)  # the same subject: not described again
        _step(instance, spiff_task, "user" if task.kind == HumanTask.USER else "failure", actor_label=actor.label,
              at=at, started_at=task.created_at, outputs=cleaned, error=reject_reason[:2000])
        record_event(actor=actor, at=at, action="reject" if reject_reason else "complete", obj=task,
                     brand=instance.brand, new=cleaned, message=reject_reason[:500])
        _run_steps(instance, workflow, actor=flow_actor(instance, actor), at=at)  # as the flow, not the desk user
        _save(instance, workflow, at=at)
    return task


# --- messages, timers, cancel -----------------------------------------------------------------------------

def deliver_message(name: str, correlation: str, payload: dict | None = None, *, actor: Actor | None = None,
                    at: dt.datetime, brand_ids=None) -> int:
    """Resume the instances waiting for message `name` with this correlation (in `brand_ids` when given: an
    API caller reaches only its brands); how many were resumed."""
    actor = actor or Actor.system("workflows.message")
    payload = payload or {}
    if not isinstance(payload, dict) or _json_size(payload) > 64_000:
        raise ServiceError("a message payload is a JSON object of at most 64 kB", field="payload")
    resumed = []
    candidates = FlowInstance.objects.filter(state=FlowInstance.WAITING, correlation=str(correlation),
                                             waiting_messages__contains=[name]).values_list("pk", flat=True)
    if brand_ids is not None:
        candidates = candidates.filter(brand_id__in=brand_ids)
    for pk in candidates:
        with transaction.atomic():
            instance = _lock(pk)
            if name not in instance.waiting_messages:
                continue
            workflow = spiff.load(instance.state_json, instance.version)
            spiff.catch_message(workflow, name, payload)
            _step(instance, None, "message", actor_label=actor.label, at=at, inputs={"name": name, **payload})
            _save(instance, workflow, at=at)
            resumed.append(instance)
    for instance in resumed:
        advance_instance(instance, actor=flow_actor(instance, actor), at=at)
    return len(resumed)


def wake_due(*, at: dt.datetime, limit: int = 500) -> int:
    """Advance the waiting instances whose timer or retry is due (the periodic job); how many."""
    actor = Actor.system("workflows.timers")
    due = list(FlowInstance.objects.filter(state=FlowInstance.WAITING, wake_at__lte=at)
               .order_by("wake_at").values_list("pk", flat=True)[:limit])
    for pk in due:
        with transaction.atomic():
            instance = FlowInstance.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if instance is None:
                continue  # another worker has it
            _step(instance, None, "timer", actor_label=actor.label, at=at,
                  inputs={"wake_at": instance.wake_at.isoformat()})
            _flush_steps(instance)
        advance_instance(instance, actor=actor, at=at)
    return len(due)


def compensate(instance: FlowInstance, *, actor: Actor, at: dt.datetime, strict: bool = True) -> int:
    """Undo what the instance's completed service tasks did, the last one first: each registered task's
    `undo` is handed the inputs and outputs of its run, and its effect is logged as a `compensate` step.

    This is the compensation of a cancelled (or aborted) instance. It lives in the registry rather than
    in BPMN compensation events: those are thrown from inside the process, while a cancel comes from
    outside it at any waiting point. `strict`: an undo that fails refuses the whole cancel (nothing is
    half undone); otherwise (a flow that already failed) the failure is logged and the others still run.
    How many steps were undone."""
    done = 0
    _flush_steps(instance)
    for step in FlowStep.objects.filter(instance=instance, kind="service", error="").order_by("-id"):
        ext = instance.version.extensions.get(step.element, {})
        try:
            spec = registry.get_service_task(ext.get("task", ""))
        except KeyError:
            continue
        if spec.undo is None:
            continue
        key = f"{step.step_key or step.pk}:undo"[:120]
        ctx = registry.StepContext(actor=actor, at=at, brand=instance.brand, instance=instance, step_key=key)
        try:
            with transaction.atomic():
                result = spec.undo(ctx, inputs=dict(step.inputs), outputs=dict(step.outputs)) or {}
        except Exception as exc:  # noqa: BLE001 - a task's own error, reported with its step
            message = getattr(exc, "message", "") or f"{type(exc).__name__}: {exc}"
            if strict:
                raise ServiceError(f"{step.name or step.element} cannot be undone: {message}", field="state",
                                   code="state") from exc
            FlowStep.objects.create(instance=instance, task_id=step.task_id, element=step.element,
                                    name=f"Undo: {step.name}"[:200], kind="compensate", actor=actor.label[:200],
                                    inputs=step.outputs, error=str(message)[:2000], started_at=at, ended_at=at)
            continue
        FlowStep.objects.create(instance=instance, task_id=step.task_id, element=step.element,
                                name=f"Undo: {step.name}"[:200], kind="compensate", actor=actor.label[:200],
                                step_key=key, inputs=step.outputs, outputs=_plain(result), started_at=at, ended_at=at)
        done += 1
    return done


def cancel_instance(instance: FlowInstance, *, reason: str, actor: Actor, at: dt.datetime) -> FlowInstance:
    """Stop an instance: its completed service tasks are undone (`compensate`, last first) and its open
    desk tasks close, in one transaction; an undo that fails refuses the cancel with the step's reason."""
    if not reason or not reason.strip():
        raise ServiceError("a cancellation needs a reason", field="reason")
    with transaction.atomic():
        instance = _lock(instance.pk)
        if instance.state in (FlowInstance.COMPLETED, FlowInstance.FAILED, FlowInstance.CANCELLED):
            raise ServiceError(f"the flow is {instance.state} already", field="state")
        workflow = spiff.load(instance.state_json, instance.version)
        _step(instance, None, "cancel", actor_label=actor.label, at=at, error=reason[:2000])
        undone = compensate(instance, actor=actor, at=at)
        workflow.cancel()
        instance.state, instance.ended_at, instance.wake_at, instance.error = FlowInstance.CANCELLED, at, None, ""
        instance.human_tasks.open().update(state=HumanTask.CANCELLED, closed_at=at, reason=reason[:2000])
        record_event(actor=actor, at=at, action="cancel", obj=instance, brand=instance.brand, message=reason[:500],
                     new={"compensated_steps": undone})
        _save(instance, workflow, at=at)
    return instance
