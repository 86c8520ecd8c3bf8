"""Lost callbacks: a request the target acknowledged whose callback never came is asked about.

After the target's `poll_after_seconds` without news (no callback, no poll), the periodic job asks the
target for the request's status by its idempotency key (`Adapter.poll`; for mvne_json
`GET {url}/v1/requests/<key>`) and moves the request by the answer: completed, failed, still in
progress (asked again after the same wait), or unknown at the target (queued again with the same
key: the target never took it, so sending it again cannot act twice). A request still without a final
answer `give_up_hours` after it was acknowledged fails (`no_final_answer`), which sends a flow to its
failure desk. Targets whose circuit breaker is open are not asked.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor

from django.db import transaction

from telora.provisioning import breaker
from telora.provisioning.adapters import Adapter, get_adapter
from telora.provisioning.models import NetworkTarget, ProvisioningRequest

logger = logging.getLogger(__name__)


def poll_lost(*, at: dt.datetime, brand_ids=None, limit: int = 200, concurrency: int = 8) -> dict[str, int]:
    """Ask the targets about their silent acknowledged requests; counts per answer."""
    from telora.provisioning.services import credentials

    counts: dict[str, int] = {}
    targets = NetworkTarget.objects.filter(active=True).exclude(adapter="manual")
    if brand_ids is not None:
        targets = targets.filter(brand_id__in=brand_ids)
    blocked, probing = breaker.blocked_targets(at=at)
    for target in targets:
        adapter = get_adapter(target.adapter)
        if target.pk in blocked or target.pk in probing or type(adapter).poll is Adapter.poll:
            continue  # the breaker holds it, or the adapter cannot ask
        settings = breaker.reliability_of(target, at=at)
        silent = list(ProvisioningRequest.objects.select_related("target")
                      .filter(target=target, state="acknowledged",
                              updated_at__lte=at - dt.timedelta(seconds=settings.poll_after_seconds))
                      .order_by("updated_at", "id")[:limit])
        if not silent:
            continue
        secrets = credentials(target)
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(silent)))) as pool:
            answers = list(pool.map(adapter.poll, silent, [secrets] * len(silent)))
        give_up = dt.timedelta(hours=settings.give_up_hours)
        for request, outcome in zip(silent, answers, strict=True):
            kind = _record(request.pk, outcome, give_up=give_up, at=at)
            counts[kind] = counts.get(kind, 0) + 1
    if counts:
        logger.info("provisioning: polled silent requests: %s", counts)
    return counts


def _record(request_id: int, outcome, *, give_up: dt.timedelta, at: dt.datetime) -> str:
    from telora.provisioning.services import _exchange, _finish, kick

    with transaction.atomic():
        request = (ProvisioningRequest.objects.select_for_update(of=("self",)).select_related("target")
                   .get(pk=request_id))
        kind = outcome.kind
        if request.state != "acknowledged":
            kind = outcome.kind = "ignored"  # a callback came meanwhile: it stands
        elif kind == "completed":
            _finish(request, "completed", result=outcome.result, at=at)
        elif kind == "rejected":
            _finish(request, "failed", code=outcome.code, message=outcome.message, at=at)
        elif kind == "unknown":  # never taken by the target: send it again, same key
            request.state, request.next_try_at = "queued", at
            request.error_code, request.error = "unknown_at_target", "the target did not know the request"
            transaction.on_commit(lambda: kick(request.pk))
        elif request.acknowledged_at is not None and request.acknowledged_at <= at - give_up:
            kind = "given_up"
            _finish(request, "failed", code="no_final_answer",
                    message=f"no final answer {give_up} after the target took it (last poll: {outcome.kind})", at=at)
        if outcome.correlation_id and not request.correlation_id:
            request.correlation_id = outcome.correlation_id
        _exchange(request, "poll", outcome, at=at)
        request.updated_at = at
        request.save()
    return kind
