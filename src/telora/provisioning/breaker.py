"""A circuit breaker per network target, shared by every worker through its `TargetReliability` row.

closed -> open: after `failure_threshold` transient failures in a row, or when `failure_rate` % of the
last `window_size` tries failed. Open: nothing is sent to the target; its queued requests stay queued,
their next try moved to `retry_at` (no try taken), so a down operator neither eats the requests' tries
nor holds the workers in time-outs. After `cooldown_seconds` the breaker is half open: one request goes
as a probe (its lease in `probe_until`, so a probe whose worker died is taken over), and its answer
closes the breaker or opens it again for another cool-down. Opening and closing are audited, logged
and emitted as domain events (`provisioning.target_down` / `provisioning.target_up`).

Lock order, everywhere: request rows, then the breaker row (claims take requests with SKIP LOCKED and
never wait on them), so claiming and recording never deadlock. Only a rejection, a completion or an
acceptance counts as the target answering; a business rejection is an answer, not a failure.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from telora.core.services import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.provisioning.models import NetworkTarget, ProvisioningRequest, TargetReliability

logger = logging.getLogger(__name__)

SYSTEM = Actor.system("provisioning-breaker")
BOUNDS = {"failure_threshold": (1, 100), "failure_rate": (1, 100), "window_size": (5, 200),
          "cooldown_seconds": (5, 3600), "poll_after_seconds": (30, 86_400), "give_up_hours": (1, 168)}


def lease_for(target: NetworkTarget) -> dt.timedelta:
    from telora.provisioning.services import LEASE

    return dt.timedelta(seconds=target.timeout_seconds) + LEASE


def reliability_of(target: NetworkTarget, *, at: dt.datetime) -> TargetReliability:
    """The target's row, made with the defaults the first time (safe when two workers race)."""
    found = TargetReliability.objects.filter(target=target).first()
    if found is None:
        TargetReliability.objects.bulk_create([TargetReliability(brand_id=target.brand_id, target=target,
                                                                 updated_at=at)], ignore_conflicts=True)
        found = TargetReliability.objects.get(target=target)
    return found


# --- before sending ---------------------------------------------------------------------------------------

def blocked_targets(*, at: dt.datetime) -> tuple[set[int], dict[int, TargetReliability]]:
    """(targets nothing may be sent to now, targets whose breaker may let a probe go). One read of the
    few breakers that are not closed; no lock."""
    blocked, probing = set(), {}
    for row in TargetReliability.objects.exclude(state="closed").select_related("target"):
        if row.state == "open" and row.retry_at is not None and row.retry_at > at:
            blocked.add(row.target_id)
        elif row.state == "half_open" and row.probe_until is not None and row.probe_until > at:
            blocked.add(row.target_id)
        else:
            probing[row.target_id] = row
    return blocked, probing


def take_probe(row: TargetReliability, *, at: dt.datetime) -> bool:
    """Half-open the breaker for one probe (a conditional UPDATE: one worker wins)."""
    until = at + lease_for(row.target)
    taken = (TargetReliability.objects.filter(pk=row.pk, state=row.state)
             .filter(Q(state="open", retry_at__lte=at) | Q(state="half_open", probe_until__lte=at))
             .update(state="half_open", probe_until=until, updated_at=at))
    if taken and row.state == "open":
        logger.info("provisioning: target %s half open, one probe until %s", row.target_id, until)
    return bool(taken)


def claim_probes(probing: dict[int, TargetReliability], *, at: dt.datetime, brand_ids=None) -> list:
    """For each target whose breaker may probe: one due request (SKIP LOCKED) and the probe taken."""
    probes = []
    for target_id, row in probing.items():
        if brand_ids is not None and row.brand_id not in brand_ids:
            continue
        request = (ProvisioningRequest.objects.select_for_update(skip_locked=True, of=("self",))
                   .select_related("target")
                   .filter(target_id=target_id, state="queued", next_try_at__lte=at).order_by("next_try_at", "id")
                   .first())
        if request is not None and take_probe(row, at=at):
            probes.append(request)
    return probes


def admit_one(target: NetworkTarget, *, at: dt.datetime) -> dt.datetime | None:
    """Whether one request may go to the target now: None if so (closed, or this one is the probe), else
    when it may try again."""
    if target.adapter == "manual":
        return None
    row = TargetReliability.objects.filter(target=target).select_related("target").first()
    if row is None or row.state == "closed":
        return None
    if row.state == "open" and row.retry_at is not None and row.retry_at > at:
        return row.retry_at
    if row.state == "half_open" and row.probe_until is not None and row.probe_until > at:
        return row.probe_until
    if take_probe(row, at=at):
        return None
    return at + lease_for(target)


class BatchGate:
    """The breaker as one batch's threads see it: once `failure_threshold` tries in a row failed during
    the batch (counting those before it), the rest of the batch for that target is held, not sent."""

    def __init__(self, rows: dict[int, TargetReliability]):
        self.lock = threading.Lock()
        # a probe (half open) goes whatever the count before it
        self.failures = {pk: row.consecutive_failures if row.state == "closed" else 0 for pk, row in rows.items()}
        self.threshold = {pk: row.failure_threshold for pk, row in rows.items()}

    def may_send(self, target_id: int) -> bool:
        with self.lock:
            return self.failures.get(target_id, 0) < self.threshold.get(target_id, 1 << 30)

    def saw(self, target_id: int, kind: str) -> None:
        with self.lock:
            self.failures[target_id] = self.failures.get(target_id, 0) + 1 if kind == "transient" else 0


def gate_for(targets, *, at: dt.datetime) -> BatchGate:
    return BatchGate({t.pk: reliability_of(t, at=at) for t in targets if t.adapter != "manual"})


# --- after sending ----------------------------------------------------------------------------------------

@dataclass
class Change:
    target_id: int
    old: str
    new: str
    retry_at: dt.datetime | None


def observe(outcomes: list[tuple[NetworkTarget, object]], *, at: dt.datetime) -> dict[int, dt.datetime]:
    """Feed a batch's outcomes (in order) to the breakers of their targets, inside the recording
    transaction (after the requests were locked). Returns, per target not closed now, when its held
    requests may go again."""
    by_target: dict[int, list[str]] = {}
    targets: dict[int, NetworkTarget] = {}
    errors: dict[int, str] = {}
    for target, outcome in outcomes:
        if target.adapter == "manual":
            continue
        targets[target.pk] = target
        kinds = by_target.setdefault(target.pk, [])
        if outcome.kind != "held":
            kinds.append(outcome.kind)
        if outcome.kind == "transient":
            errors[target.pk] = f"{outcome.code}: {outcome.message}"[:300]
    reopen: dict[int, dt.datetime] = {}
    for target_id in sorted(by_target):
        target = targets[target_id]
        reliability_of(target, at=at)
        row = TargetReliability.objects.select_for_update().get(target_id=target_id)
        row.last_error = errors.get(target_id, row.last_error)
        change = _advance(row, by_target[target_id], at=at)
        row.updated_at = at
        row.save()
        if change is not None:
            _announce(target, row, change, at=at)
        if row.state != "closed":
            reopen[target_id] = row.retry_at if row.state == "open" else row.probe_until
    return reopen


def _advance(row: TargetReliability, kinds: list[str], *, at: dt.datetime) -> Change | None:
    first = row.state
    for kind in kinds:
        failed = kind == "transient"
        row.recent = (row.recent + ("0" if failed else "1"))[-row.window_size:]
        row.consecutive_failures = row.consecutive_failures + 1 if failed else 0
        if row.state == "half_open":  # the probe's answer
            if failed:
                _open(row, at=at)
            else:
                row.state, row.recent, row.consecutive_failures = "closed", "", 0
                row.retry_at = row.probe_until = row.opened_at = None
                row.changed_at = at
        elif row.state == "closed" and (row.consecutive_failures >= row.failure_threshold or _rate_reached(row)):
            _open(row, at=at)
    if row.state == first:
        return None
    return Change(row.target_id, first, row.state, row.retry_at)


def _rate_reached(row: TargetReliability) -> bool:
    tried = len(row.recent)
    return tried >= row.window_size and row.recent.count("0") * 100 >= row.failure_rate * tried


def _open(row: TargetReliability, *, at: dt.datetime) -> None:
    row.state, row.retry_at, row.probe_until = "open", at + dt.timedelta(seconds=row.cooldown_seconds), None
    row.opened_at = row.opened_at or at
    row.changed_at = at


def _announce(target: NetworkTarget, row: TargetReliability, change: Change, *, at: dt.datetime) -> None:
    from telora.events.services import emit

    if change.new == "open":
        logger.warning("provisioning: target %s/%s unreachable (%s failures in a row, %s of the last %s tries "
                       "failed); nothing is sent until %s", target.brand_id, target.code, row.consecutive_failures,
                       row.recent.count("0"), len(row.recent), row.retry_at)
        if change.old == "closed":
            record_event(actor=SYSTEM, at=at, action="update", obj=target, brand=target.brand,
                         old={"breaker": "closed"}, new={"breaker": "open", "retry_at": row.retry_at},
                         message=f"circuit breaker opened: {row.last_error}"[:500])
            emit("provisioning.target_down", brand=target.brand_id, subject=target, at=at, actor=SYSTEM,
                 payload={"target_id": target.pk, "target": target.code, "retry_at": row.retry_at,
                          "consecutive_failures": row.consecutive_failures, "error": row.last_error})
        transaction.on_commit(lambda: hold_queued(target.pk, row.retry_at))
    elif change.new == "closed":
        logger.warning("provisioning: target %s/%s answers again; the breaker is closed", target.brand_id, target.code)
        record_event(actor=SYSTEM, at=at, action="update", obj=target, brand=target.brand,
                     old={"breaker": change.old}, new={"breaker": "closed"}, message="circuit breaker closed")
        emit("provisioning.target_up", brand=target.brand_id, subject=target, at=at, actor=SYSTEM,
             payload={"target_id": target.pk, "target": target.code})


def hold_queued(target_id: int, until: dt.datetime | None) -> int:
    """The target's queued requests due before `until` wait until then (what the screens show). Its own
    short transaction, after the breaker's commit: it holds nothing else while it waits on a row."""
    if until is None:
        return 0
    return (ProvisioningRequest.objects.filter(target_id=target_id, state="queued", next_try_at__lt=until)
            .update(next_try_at=until))


# --- people -----------------------------------------------------------------------------------------------

@transaction.atomic
def configure(target: NetworkTarget, *, actor: Actor, at: dt.datetime, **settings) -> TargetReliability:
    """Change a target's breaker and polling settings (each within its bounds, named on error)."""
    row = reliability_of(target, at=at)
    row = TargetReliability.objects.select_for_update().get(pk=row.pk)
    old, new = {}, {}
    for name, value in settings.items():
        if name not in BOUNDS:
            raise ServiceError(f"{name}: not a setting of the breaker", field=name)
        low, high = BOUNDS[name]
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ServiceError(f"{name}: a whole number", field=name) from None
        if not low <= number <= high:
            raise ServiceError(f"{name}: from {low} to {high}", field=name)
        if getattr(row, name) != number:
            old[name], new[name] = getattr(row, name), number
            setattr(row, name, number)
    row.recent = row.recent[-row.window_size:]
    row.updated_at = at
    row.save()
    if new:
        record_event(actor=actor, at=at, action="update", obj=row, brand=target.brand, old=old, new=new)
    return row


@transaction.atomic
def close_by_hand(target: NetworkTarget, *, actor: Actor, at: dt.datetime) -> TargetReliability:
    """A person knows the operator is back: close the breaker now; the held requests go at once."""
    row = TargetReliability.objects.select_for_update().filter(target=target).first()
    if row is None or row.state == "closed":
        raise ServiceError("state: the breaker is closed already", field="state")
    old, held_until = row.state, row.retry_at if row.state == "open" else row.probe_until
    row.state, row.recent, row.consecutive_failures = "closed", "", 0
    row.retry_at = row.probe_until = row.opened_at = None
    row.changed_at = row.updated_at = at
    row.save()
    record_event(actor=actor, at=at, action="update", obj=target, brand=target.brand, old={"breaker": old},
                 new={"breaker": "closed"}, message="circuit breaker closed by hand")
    from telora.events.services import emit

    emit("provisioning.target_up", brand=target.brand_id, subject=target, at=at, actor=actor,
         payload={"target_id": target.pk, "target": target.code})
    if held_until is not None:  # those hold_queued moved (not those in their own backoff or lease)
        ProvisioningRequest.objects.filter(target=target, state="queued", next_try_at=held_until).update(next_try_at=at)
    return row
