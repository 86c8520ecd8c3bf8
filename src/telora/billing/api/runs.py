"""/api/v1/billruns: start a test or production run (executed by a background job), list runs,
follow one (progress, then its summary), approve a finished test run into a production run,
resume a failed or stopped run, and compare two runs.

Reading needs billing.view in the run's brand (a run of another brand is a 404); starting a test
run billing.change, a production run or an approval billing.approve; resuming a run the right that
starts its kind.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS, Error
from telora.api.paging import Paging, page
from telora.billing.api.schemas import RUNS_BASE, CompareOut, RunDetail, RunFilter, RunIn, RunOut, brand_for
from telora.billing.models import BillRun
from telora.billing.services import approve, compare_runs, confirm_run, start_run
from telora.core import clock, rights
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.core.services.jobs import start_job

router = Router(tags=["billing"])

ACCEPTED = {202: RunDetail, 409: Error, **ERRORS}


def _runs(request):
    require_perm(request, "billing.view")
    return BillRun.objects.for_user(principal(request), "view").select_related("brand", "cycle")


def _queue(request, response: HttpResponse, run: BillRun, actor: Actor, at):
    """Queue the run's job; the caller's own name when it may start billing jobs (billing.change)."""
    who = principal(request)
    job_actor = actor if rights.has_perm(who, run.brand, "billing.change") else Actor.system(f"billrun-{run.pk}")
    job = start_job("billing.run", actor=job_actor, at=at, brand=run.brand, params={"run_id": run.pk},
                    title=f"Bill run {run.pk}")
    BillRun.objects.filter(pk=run.pk).update(job=job)
    response["Location"] = f"{RUNS_BASE}/{run.pk}"
    return Status(202, BillRun.objects.select_related("brand", "cycle").get(pk=run.pk))


@router.post("", response=ACCEPTED, summary="Start a bill run")
def create_run(request, response: HttpResponse, payload: RunIn):
    """Record the run and queue it for a worker: 202 with the run; follow it at its `href`.
    A production run is refused (400 naming `period`) before its period has ended."""
    perm = "billing.approve" if payload.kind == "production" else "billing.change"
    require_perm(request, perm)
    brand = brand_for(principal(request), payload.brand, perm)
    actor, at = Actor.from_request(request), clock.now()
    with transaction.atomic():
        run = start_run(brand, payload.cycle.strip(), payload.period.strip(), payload.groups, payload.kind,
                        actor=actor, at=at)
        return _queue(request, response, run, actor, at)


@router.get("", response={200: list[RunOut], **ERRORS}, summary="List bill runs")
def list_runs(request, response: HttpResponse, paging: Query[Paging], filters: Query[RunFilter]):
    """Newest first."""
    rows = _runs(request)
    if filters.brand:
        rows = rows.filter(brand__code__iexact=filters.brand)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.cycle:
        rows = rows.filter(cycle__code=filters.cycle)
    if filters.period:
        year, _, month = filters.period.partition("-")
        if not (year.isdigit() and month.isdigit()):
            raise ServiceError(f"period: {filters.period!r} is not YYYY-MM", field="period")
        rows = rows.filter(period_start__year=int(year), period_start__month=int(month))
    return page(rows.order_by("-id"), paging, response)


@router.get("/{int:run_id}", response={200: RunDetail, **ERRORS}, summary="One bill run")
def get_run(request, run_id: int):
    """The run with its progress (accounts done of total) and, once done, its summary."""
    return get_object_or_404(_runs(request), pk=run_id)


@router.post("/{int:run_id}/approve", response=ACCEPTED, summary="Approve a test run")
def approve_run(request, response: HttpResponse, run_id: int):
    """A production run with the finished test run's cycle, period and groups (billing.approve),
    queued like a started one: 202 with the new run."""
    test_run = get_object_or_404(_runs(request), pk=run_id)
    if not rights.has_perm(principal(request), test_run.brand, "billing.approve"):
        raise PermissionDeniedError(f"You lack billing.approve in {test_run.brand.code}.")
    actor, at = Actor.from_request(request), clock.now()
    with transaction.atomic():
        run = approve(test_run, actor=actor, at=at)
        return _queue(request, response, run, actor, at)


@router.post("/{int:run_id}/confirm", response=ACCEPTED, summary="Confirm a held production run")
def confirm(request, response: HttpResponse, run_id: int):
    """A production run from an approval is held, issuing nothing, when billing its accounts again
    differs from the approved test run (its summary's `approval_check` lists the differences).
    Confirming (billing.approve) queues it to issue the current state: 202 with the run; 400 naming
    `status` for a run that is not held."""
    run = get_object_or_404(_runs(request), pk=run_id)
    if not rights.has_perm(principal(request), run.brand, "billing.approve"):
        raise PermissionDeniedError(f"You lack billing.approve in {run.brand.code}.")
    actor, at = Actor.from_request(request), clock.now()
    with transaction.atomic():
        run = confirm_run(run, actor=actor, at=at)
        return _queue(request, response, run, actor, at)


@router.post("/{int:run_id}/resume", response=ACCEPTED, summary="Resume a failed or stopped run")
def resume(request, response: HttpResponse, run_id: int):
    """A new job executes the run again, billing only the accounts it had not billed: for a failed
    run, or a queued or running one whose job is gone (its worker killed). 202 with the run; 400
    naming `status` for a done run or one still being executed."""
    from telora.billing.services.resume import resume_run

    run = get_object_or_404(_runs(request), pk=run_id)
    perm = "billing.approve" if run.kind == "production" else "billing.change"
    if not rights.has_perm(principal(request), run.brand, perm):
        raise PermissionDeniedError(f"You lack {perm} in {run.brand.code}.")
    run = resume_run(run, actor=Actor.from_request(request), at=clock.now())
    response["Location"] = f"{RUNS_BASE}/{run.pk}"
    return Status(202, BillRun.objects.select_related("brand", "cycle").get(pk=run.pk))


@router.get("/{int:run_id}/compare/{int:other_id}", response={200: CompareOut, **ERRORS},
            summary="Compare two runs")
def compare(request, run_id: int, other_id: int):
    """Per account: invoices new in the second run, removed from it, and changed (with the lines
    found in one run only); `same` counts the invoices alike."""
    runs = _runs(request)
    a = get_object_or_404(runs, pk=run_id)
    b = get_object_or_404(runs, pk=other_id)
    return {"a": a.pk, "b": b.pk, **compare_runs(a, b)}
