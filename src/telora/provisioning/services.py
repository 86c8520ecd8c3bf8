"""Every write of the provisioning app: targets, requests, sending with retries, callbacks, the flow
told when a request ends, and the manual queue.

A request is sent outside any transaction: one transaction claims the try (tries + 1, and a lease in
`next_try_at`), the adapter talks to the target, a second transaction records the answer. A worker
killed in between leaves the request queued with its lease; when the lease runs out the request is
sent again with the same idempotency key, and the target answers as it did the first time.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time

from django.db import transaction
from django.db.models import Exists, OuterRef

from telora.core.bulk import copy_objects
from telora.core.sealing import Sealer
from telora.core.services import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.provisioning import breaker
from telora.provisioning.adapters import (
    ADAPTERS,
    CallbackResult,
    Outcome,
    SignatureError,
    get_adapter,
    mask,
    mask_text,
)
from telora.provisioning.bulkwrite import update_rows
from telora.provisioning.models import (
    OPERATIONS,
    RANK,
    TERMINAL,
    NetworkTarget,
    ProvisioningExchange,
    ProvisioningRequest,
)

logger = logging.getLogger(__name__)

MESSAGE = "provisioning_done"  # the BPMN message a flow waits for (correlation: the instance's)
BACKOFF_BASE = dt.timedelta(seconds=15)
BACKOFF_CAP = dt.timedelta(hours=1)
LEASE = dt.timedelta(seconds=60)  # beyond the answer timeout: how long a claimed try is left alone
NOTIFY_FOR = dt.timedelta(days=2)  # how long an untold flow is tried again

SEALER = Sealer("provisioning credentials", variable="TELORA_PROVISIONING_KEY", info=b"provisioning.credentials",
                wrong_key="The provisioning credentials were sealed with another key (TELORA_PROVISIONING_KEY / "
                          "SECRET_KEY).",
                altered="A target's credentials were altered or belong to another target.")


def _context(target: NetworkTarget) -> bytes:
    return f"provisioning-target:{target.pk}".encode()


def credentials(target: NetworkTarget) -> dict:
    """The target's secrets, opened (for the adapters only: never shown, never logged)."""
    if not target.sealed_credentials:
        return {}
    return SEALER.unseal(target.sealed_credentials, _context(target))


# --- targets ----------------------------------------------------------------------------------------------

@transaction.atomic
def configure_target(brand, *, code: str = "network", name: str = "", adapter: str, url: str = "",
                     callback_url: str = "", desk: str = "network", timeout_seconds: int = 10, max_tries: int = 6,
                     secrets: dict | None = None, actor: Actor, at: dt.datetime) -> NetworkTarget:
    """Create or change the brand's target `code`. `secrets` (api_key, callback_secret, …) given replace
    those stored under the same names; the others are kept (a form leaves a secret empty to keep it). The
    audit names which secrets changed, never their values."""
    if adapter not in ADAPTERS:
        raise ServiceError(f"adapter: one of {', '.join(sorted(ADAPTERS))}", field="adapter")
    if adapter != "manual" and not url:
        raise ServiceError("url: the adapter needs the target's address", field="url")
    if not 1 <= int(timeout_seconds) <= 120:
        raise ServiceError("timeout_seconds: from 1 to 120", field="timeout_seconds")
    if not 1 <= int(max_tries) <= 30:
        raise ServiceError("max_tries: from 1 to 30", field="max_tries")
    target = NetworkTarget.objects.select_for_update().filter(brand=brand, code=code).first()
    old = None
    if target is None:
        target = NetworkTarget(brand=brand, code=code, created_at=at)
    else:
        old = {"name": target.name, "adapter": target.adapter, "url": target.url,
               "callback_url": target.callback_url, "desk": target.desk}
    target.name, target.adapter, target.url, target.callback_url = name or code.title(), adapter, url, callback_url
    target.desk, target.timeout_seconds, target.max_tries, target.updated_at = desk, timeout_seconds, max_tries, at
    target.save()
    new = {"name": target.name, "adapter": adapter, "url": url, "callback_url": callback_url, "desk": desk}
    if secrets:
        kept = credentials(target)
        target.sealed_credentials = SEALER.seal({**kept, **{k: str(v) for k, v in secrets.items()}},
                                                _context(target))
        target.save(update_fields=["sealed_credentials"])
        new["secrets"] = sorted(secrets)  # which ones, not what
    record_event(actor=actor, at=at, action="create" if old is None else "update", obj=target, brand=brand,
                 old=old, new=new)
    return target


def target_for(brand, code: str = "network") -> NetworkTarget | None:
    return NetworkTarget.objects.filter(brand=brand, code=code, active=True).first()


def automatic(brand, code: str = "network") -> bool:
    """Whether the brand's target is reached by an adapter (not by a person at a desk)."""
    target = target_for(brand, code)
    return target is not None and target.adapter != "manual"


# --- requests ---------------------------------------------------------------------------------------------

def create_request(brand, *, operation: str, payload: dict, idempotency_key: str, target: NetworkTarget | None = None,
                   subscription=None, order=None, flow_instance=None, step_key: str = "", group_key: str = "",
                   step: str = "", position: int = 0, actor: Actor, at: dt.datetime) -> ProvisioningRequest:
    """Queue a request (sent by a worker at once, see `kick`). The same idempotency key again returns the
    request made the first time: a retried flow step makes no second request."""
    if operation not in OPERATIONS:
        raise ServiceError(f"operation: one of {', '.join(OPERATIONS)}", field="operation")
    if not idempotency_key or len(idempotency_key) > 160:
        raise ServiceError("idempotency_key: 1 to 160 characters", field="idempotency_key")
    target = target or target_for(brand)
    if target is None:
        raise ServiceError(f"target: {brand.code} has no network target configured", field="target")
    if target.brand_id != brand.pk:
        raise ServiceError("target: not a target of the brand", field="target")
    with transaction.atomic():
        existing = ProvisioningRequest.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.brand_id != brand.pk:
                raise ServiceError("idempotency_key: used by another brand", field="idempotency_key")
            return existing
        request = ProvisioningRequest.objects.create(
            brand=brand, target=target, operation=operation, payload=payload, idempotency_key=idempotency_key,
            subscription=subscription, order=order, flow_instance=flow_instance, step_key=step_key[:120],
            group_key=group_key[:160], step=step[:40], position=position, state="queued", next_try_at=at,
            created_at=at, updated_at=at)
        record_event(actor=actor, at=at, action="create", obj=request, brand=brand,
                     new={"operation": operation, "target": target.code, "payload": mask(payload)})
        transaction.on_commit(lambda: kick(request.pk))
    return request


def kick(request_id: int, *, delay: dt.timedelta | None = None) -> None:
    """Ask a worker to send the request (now, or after `delay`); the periodic job would anyway."""
    try:
        from telora.provisioning.jobs import send_task

        options = {"schedule_in": {"seconds": int(delay.total_seconds()) + 1}} if delay else {}
        send_task.configure(**options).defer(request_id=request_id)
    except Exception:  # noqa: BLE001  (no job queue here: the periodic job takes it)
        logger.debug("provisioning: request %s left to the periodic job", request_id)


def backoff(tries: int) -> dt.timedelta:
    """Exponential with jitter: half the doubled delay fixed, the other half random (so a target
    coming back is not hit by every waiting request at the same second)."""
    delay = min(BACKOFF_BASE * (2 ** max(tries - 1, 0)), BACKOFF_CAP)
    return delay / 2 + delay / 2 * random.random()  # noqa: S311 (jitter, not a secret)


def send_request(request_id: int, *, at: dt.datetime) -> str:
    """One try of a due queued request; what it came to ("" when it was not due or taken elsewhere)."""
    with transaction.atomic():
        request = (ProvisioningRequest.objects.select_for_update(skip_locked=True, of=("self",))
                   .select_related("target").filter(line_free(), pk=request_id, state="queued").first())
        if request is None or (request.next_try_at is not None and request.next_try_at > at):
            return ""
        target = request.target
        held_until = breaker.admit_one(target, at=at)
        if held_until is not None:  # the target's breaker is open: no try taken, its next when it may probe
            request.next_try_at, request.updated_at = held_until, at
            request.save(update_fields=["next_try_at", "updated_at"])
            return "held"
        request.tries += 1
        request.next_try_at = at + dt.timedelta(seconds=target.timeout_seconds) + LEASE
        request.sent_at = request.sent_at or at
        request.updated_at = at
        request.save(update_fields=["tries", "next_try_at", "sent_at", "updated_at"])
        secrets = credentials(target)
    outcome = get_adapter(target.adapter).send(request, secrets)  # outside any transaction: a slow target
    return record_outcome(request.pk, outcome, at=at)                # holds no lock


def record_outcome(request_id: int, outcome: Outcome, *, at: dt.datetime) -> str:
    return record_outcomes([(request_id, outcome)], at=at)[0]


def record_outcomes(pairs: list[tuple[int, Outcome]], *, at: dt.datetime) -> list[str]:
    """The answers of a batch of tries, recorded in one transaction with one statement per table."""
    kinds, exchanges = [], []
    with transaction.atomic():
        # its own rows only (`of`: a callback inserting an exchange must not wait on the target's row), in
        # id order (two recorders never lock crosswise)
        locked = (ProvisioningRequest.objects.select_for_update(of=("self",)).select_related("target")
                  .order_by("pk").in_bulk([pk for pk, _ in pairs]))
        reopen = breaker.observe([(locked[pk].target, outcome) for pk, outcome in pairs], at=at)
        for pk, outcome in pairs:
            if outcome.kind == "held":  # not sent (the breaker opened during the batch): the try given back
                request = locked[pk]
                request.tries = max(request.tries - 1, 0)
                request.next_try_at, request.updated_at = reopen.get(request.target_id, at), at
            else:
                exchanges.append(_apply(locked[pk], outcome, at=at))
            kinds.append(outcome.kind)
        copy_objects(ProvisioningExchange, exchanges)  # COPY, and one UPDATE … FROM (VALUES …): a batch's
        update_rows(ProvisioningRequest, list(locked.values()), UPDATED_FIELDS)  # answers in two statements
        to_people = [pk for pk, outcome in pairs if outcome.kind == "waiting" and locked[pk].state == "sent"]
        if to_people:  # a manual target: the person's work goes on the target's desk (provisioning/manual.py)
            from telora.provisioning.manual import open_desk_tasks

            open_desk_tasks(to_people, at=at)
    return kinds


UPDATED_FIELDS = ["state", "tries", "correlation_id", "acknowledged_at", "completed_at", "next_try_at", "error_code", "error",
                  "result", "updated_at"]


def _apply(request: ProvisioningRequest, outcome: Outcome, *, at: dt.datetime) -> ProvisioningExchange:
    """Move the request by one try's answer (not saved); the exchange to store (not saved either)."""
    exchange = _exchange(request, "request" if outcome.kind != "waiting" else "manual", outcome, at=at, save=False)
    if outcome.correlation_id and not request.correlation_id:
        request.correlation_id = outcome.correlation_id
    if request.finished or request.state == "acknowledged" and outcome.kind in ("accepted", "transient"):
        pass  # a callback was quicker than this answer: it stands
    elif outcome.kind == "completed":
        _finish(request, "completed", result=outcome.result, at=at)
    elif outcome.kind == "accepted":
        request.state, request.acknowledged_at, request.next_try_at = "acknowledged", at, None
    elif outcome.kind == "waiting":
        request.state, request.next_try_at = "sent", None
    elif outcome.kind == "rejected":
        _finish(request, "failed", code=outcome.code, message=outcome.message, at=at)
    elif request.tries >= request.target.max_tries:
        _finish(request, "failed", code="too_many_tries",
                message=f"{request.tries} tries, the last: {outcome.code}: {outcome.message}", at=at)
    else:  # transient: again later, with the same idempotency key
        wait = backoff(request.tries)
        request.state, request.next_try_at = "queued", at + wait
        request.error_code, request.error = outcome.code[:80], outcome.message[:2000]
        transaction.on_commit(lambda: kick(request.pk, delay=wait))
    request.updated_at = at
    return exchange


def _exchange(request, kind: str, outcome: Outcome, *, at, save: bool = True) -> ProvisioningExchange:
    exchange = ProvisioningExchange(
        brand_id=request.brand_id, request=request, target_id=request.target_id, kind=kind, url=outcome.url[:500],
        request_headers=mask(outcome.request_headers), request_body=mask_text(outcome.request_body)[:64_000],
        status_code=outcome.status_code, response_body=mask_text(outcome.response_body)[:64_000],
        outcome=outcome.kind, error=f"{outcome.code}: {outcome.message}" if outcome.code else "", at=at,
        duration_ms=outcome.duration_ms)
    if save:
        exchange.save()
    return exchange


def _finish(request, state: str, *, at, code: str = "", message: str = "", result: dict | None = None) -> None:
    """The request ends; the flow waiting for it is told once the transaction commits."""
    request.state, request.completed_at, request.next_try_at = state, at, None
    request.error_code, request.error = code[:80], message[:2000]
    if result:
        request.result = mask(result)
    if state == "failed" and request.group_key:
        from telora.provisioning.sequencing_services import block_rest

        block_rest(request, at=at)  # the later steps of its sequence are not sent
    if request.flow_instance_id is not None:
        transaction.on_commit(lambda: notify_flow(request.pk, at=at))
    if request.subscription_id is not None:
        transaction.on_commit(lambda: _kick_line(request.subscription_id))


def _kick_line(subscription_id: int) -> None:
    from telora.provisioning.sequencing_services import kick_line

    kick_line(subscription_id)


def line_free():
    """No earlier request of the same line is still open: one line's requests reach the network one at a
    time, in the order they were made (a later bar waits for an earlier create; sequencing relies on it)."""
    earlier = ProvisioningRequest.objects.filter(subscription_id=OuterRef("subscription_id"), id__lt=OuterRef("id"),
                                                 state__in=("queued", "sent", "acknowledged"))
    return ~Exists(earlier)


def send_due(*, at: dt.datetime, brand_ids=None, limit: int = 200, concurrency: int = 8) -> dict:
    """Send the queued requests whose time has come (new ones, retries after backoff, tries whose
    worker died), a batch at a time: one transaction claims the batch, up to `concurrency` requests are
    on the wire at once (no lock held), one transaction records the answers. Counts per outcome."""
    counts: dict[str, int] = {}
    while True:
        with transaction.atomic():
            blocked, probing = breaker.blocked_targets(at=at)  # targets whose breaker is not closed
            due = (ProvisioningRequest.objects.select_for_update(skip_locked=True, of=("self",))
                   .select_related("target").filter(line_free(), state="queued", next_try_at__lte=at)
                   .order_by("next_try_at", "id"))
            if blocked or probing:
                due = due.exclude(target_id__in=blocked | set(probing))
            if brand_ids is not None:
                due = due.filter(brand_id__in=brand_ids)
            main = list(due[:limit])
            batch = main + breaker.claim_probes(probing, at=at, brand_ids=brand_ids)
            for request in batch:
                request.tries += 1
                request.next_try_at = at + dt.timedelta(seconds=request.target.timeout_seconds) + LEASE
                request.sent_at = request.sent_at or at
                request.updated_at = at
            update_rows(ProvisioningRequest, batch, ["tries", "next_try_at", "sent_at", "updated_at"])
            targets = {r.target_id: r.target for r in batch}.values()
            secrets = {t.pk: credentials(t) for t in targets}
            gate = breaker.gate_for(targets, at=at)
        if not batch:
            return counts
        outcomes = _send_all(batch, secrets, concurrency, gate)
        for kind in record_outcomes([(r.pk, o) for r, o in zip(batch, outcomes, strict=True)], at=at):
            counts[kind] = counts.get(kind, 0) + 1
        if len(main) < limit and len(batch) == len(main):  # after a probe: its target may be open to all now
            return counts


def _send_all(batch, secrets: dict, concurrency: int, gate=None) -> list[Outcome]:
    def one(request):
        if gate is not None and not gate.may_send(request.target_id):
            return Outcome("held", message="the target's circuit breaker opened during the batch")
        outcome = get_adapter(request.target.adapter).send(request, secrets[request.target_id])
        if gate is not None:
            gate.saw(request.target_id, outcome.kind)
        return outcome

    if concurrency <= 1 or len(batch) == 1:
        return [one(r) for r in batch]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(concurrency, len(batch))) as pool:  # the adapters touch no database
        return list(pool.map(one, batch))


# --- callbacks --------------------------------------------------------------------------------------------

def receive_callback(target: NetworkTarget, *, headers: dict, body: bytes, at: dt.datetime) -> ProvisioningRequest | None:
    """A target's asynchronous answer. SignatureError (logged, with the refused exchange) if it is not
    signed with the target's secret. A duplicate, or a stale answer arriving after a later one, is
    logged and changes nothing."""
    adapter = get_adapter(target.adapter)
    try:
        result = adapter.handle_callback(headers, body, credentials(target), now=time.time())
    except SignatureError as exc:
        logger.warning("provisioning: callback for %s/%s refused: %s", target.brand_id, target.code, exc)
        ProvisioningExchange.objects.create(
            brand_id=target.brand_id, target=target, kind="callback", request_headers=mask(_plain_headers(headers)),
            request_body=mask_text(body[:64_000].decode(errors="replace")), status_code=401, outcome="refused",
            error=str(exc), at=at)
        raise
    with transaction.atomic():
        request = _callback_request(target, result)
        outcome = Outcome("callback", correlation_id=result.correlation_id,
                          request_headers=_plain_headers(headers), request_body=body[:64_000].decode(errors="replace"),
                          status_code=200)
        if request is None:
            outcome.kind = "unknown"
            ProvisioningExchange.objects.create(
                brand_id=target.brand_id, target=target, kind="callback", request_headers=mask(outcome.request_headers),
                request_body=mask_text(outcome.request_body), status_code=200, outcome="unknown request", at=at)
            return None
        if not result.state or RANK[result.state] <= RANK[request.state]:
            outcome.kind = "ignored"  # a duplicate, or older news than the request already has
        elif result.state in TERMINAL:
            outcome.kind = result.state
            _finish(request, result.state, code=result.code, message=result.message, result=result.result, at=at)
        else:
            outcome.kind = result.state
            request.state, request.acknowledged_at, request.next_try_at = result.state, at, None
        _exchange(request, "callback", outcome, at=at)
        if result.correlation_id and not request.correlation_id:
            request.correlation_id = result.correlation_id[:120]
        request.updated_at = at
        request.save()
    return request


def _callback_request(target, result: CallbackResult) -> ProvisioningRequest | None:
    requests = ProvisioningRequest.objects.select_for_update().filter(target=target)
    if result.idempotency_key:
        found = requests.filter(idempotency_key=result.idempotency_key).first()
        if found is not None:
            return found
    if result.correlation_id:
        return requests.filter(correlation_id=result.correlation_id).first()
    return None


def _plain_headers(headers) -> dict:
    return {str(k): str(v)[:500] for k, v in dict(headers).items()}


# --- the manual queue -------------------------------------------------------------------------------------

def complete_by_hand(request: ProvisioningRequest, *, reference: str = "", failed: bool = False, reason: str = "",
                     by: str = "", desk_instance: int | None = None, actor: Actor,
                     at: dt.datetime) -> ProvisioningRequest:
    """A person did (or could not do) the request at the operator: it ends as a callback would end it.
    `by` names the person when the actor is the desk task's flow (`desk_instance`); answered on the request's
    page instead, the request's open desk task is closed."""
    if failed and not reason.strip():
        raise ServiceError("reason: say why it failed", field="reason")
    with transaction.atomic():
        request = ProvisioningRequest.objects.select_for_update().get(pk=request.pk)
        if request.finished:
            raise ServiceError(f"state: the request is {request.state} already", field="state")
        old = {"state": request.state}
        request.correlation_id = (reference or request.correlation_id)[:120]
        _finish(request, "failed" if failed else "completed", code="manual" if failed else "", message=reason, at=at)
        ProvisioningExchange.objects.create(
            brand_id=request.brand_id, request=request, target_id=request.target_id, kind="manual",
            request_body=json.dumps({"by": by or actor.label, "reference": reference, "reason": reason}),
            outcome=request.state, at=at)
        request.updated_at = at
        request.save()
        if request.target.adapter == "manual":
            from telora.provisioning.manual import close_desk_tasks

            close_desk_tasks(request, reason=f"answered outside the desk (by {by or actor.label})"[:300],
                             actor=actor, at=at, keep=desk_instance)
        record_event(actor=actor, at=at, action="update", obj=request, brand=request.brand, old=old,
                     new={"state": request.state, "reference": reference}, message=reason[:500])
    return request


def cancel_request(request: ProvisioningRequest, *, reason: str, actor: Actor, at: dt.datetime) -> ProvisioningRequest:
    """A request not sent yet is not sent (a cancelled order); one already sent must be undone by another."""
    with transaction.atomic():
        request = ProvisioningRequest.objects.select_for_update().get(pk=request.pk)
        if request.state != "queued" or request.tries:
            raise ServiceError(f"state: a {request.state} request cannot be cancelled", field="state")
        request.state, request.next_try_at, request.error, request.updated_at = "cancelled", None, reason[:2000], at
        request.completed_at = at
        request.save()
        record_event(actor=actor, at=at, action="cancel", obj=request, brand=request.brand, message=reason[:500])
    return request


def resend(request: ProvisioningRequest, *, actor: Actor, at: dt.datetime) -> ProvisioningRequest:
    """A failed request asked again (a person chose retry at the desk): a fresh idempotency key, since the
    target keeps its answer to the old one."""
    with transaction.atomic():
        request = ProvisioningRequest.objects.select_for_update().get(pk=request.pk)
        if request.state not in ("failed", "cancelled"):
            raise ServiceError(f"state: a {request.state} request is not sent again", field="state")
        old = {"state": request.state, "idempotency_key": request.idempotency_key, "error": request.error}
        base, _, number = request.idempotency_key.partition(":retry")
        request.idempotency_key = f"{base}:retry{int(number or 0) + 1}"[:160]
        request.state, request.tries, request.next_try_at, request.error_code, request.error = "queued", 0, at, "", ""
        request.completed_at = request.notified_at = request.acknowledged_at = None
        request.correlation_id, request.updated_at = "", at
        request.save()
        record_event(actor=actor, at=at, action="update", obj=request, brand=request.brand, old=old,
                     new={"state": "queued", "idempotency_key": request.idempotency_key}, message="sent again")
        transaction.on_commit(lambda: kick(request.pk))
    return request


# --- the flow that waits --------------------------------------------------------------------------------

def notify_flow(request_id: int, *, at: dt.datetime) -> bool:
    """Tell the flow instance waiting for this request that it ended (BPMN message `provisioning_done`).
    True once it is told, or has nothing to be told (ended meanwhile). A flow that was not waiting yet
    is told by the periodic job later; one retrying its result check is woken."""
    from telora.provisioning.sequencing_services import group_open
    from telora.workflows.models import FlowInstance
    from telora.workflows.services import deliver_message

    request = ProvisioningRequest.objects.select_related("flow_instance").filter(pk=request_id).first()
    if request is None or request.flow_instance_id is None or request.notified_at or not request.finished:
        return True
    if group_open(request):  # the flow waits for its whole sequence: the last step to end tells it
        ProvisioningRequest.objects.filter(pk=request.pk).update(notified_at=at)
        return True
    instance = request.flow_instance
    payload = {"provisioning_request": request.pk, "provisioning_state": request.state}
    if len(json.dumps(instance.data, default=str)) < 48_000:
        # The flow's data rides along: a flow that loops back to its wait (a retry from the desk) gets a
        # fresh catch task whose data is the message's only (SpiffWorkflow), and its later steps need the order.
        payload = {**instance.data, **payload}
    delivered = deliver_message(MESSAGE, instance.correlation, payload, actor=Actor.system("provisioning"), at=at,
                                brand_ids=[request.brand_id])
    instance.refresh_from_db(fields=["state", "error"])
    done = bool(delivered) or instance.state not in (FlowInstance.RUNNING, FlowInstance.WAITING)
    if not done and instance.error.startswith("retry provisioning."):  # its check waits for its backoff: now
        FlowInstance.objects.filter(pk=instance.pk, state=FlowInstance.WAITING).update(wake_at=at)
        done = True
    if done:
        ProvisioningRequest.objects.filter(pk=request.pk).update(notified_at=at)
    return done


def notify_pending(*, at: dt.datetime, brand_ids=None) -> int:
    """The ended requests whose flow was not told yet (it was not waiting when they ended)."""
    pending = ProvisioningRequest.objects.filter(state__in=TERMINAL, notified_at__isnull=True,
                                                 flow_instance__isnull=False, completed_at__gte=at - NOTIFY_FOR)
    if brand_ids is not None:
        pending = pending.filter(brand_id__in=brand_ids)
    return sum(notify_flow(pk, at=at) for pk in pending.values_list("pk", flat=True)[:500])
