"""A production run approved from a test run issues what finance reviewed, or shows what changed.

Between the test run finance looked at and the production run, usage may have been rated, a line
changed, an adjustment entered. So before a production run from an approval issues anything, it
bills the same accounts again as a fresh test run (the *check run*) and compares it with the
approved one, invoice by invoice and line by line (`compare_runs`):

- identical: the check run is deleted, the production run goes on, and its summary says so;
- different: nothing is issued; the production run is **held** with the differences in its summary
  and the check run kept for reading. Finance then confirms it (`confirm_run`, billing.approve:
  the run issues the current state, which the check run shows), or deletes the held run and
  starts over from a new test run.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from telora.billing.models import BillRun, Invoice
from telora.billing.services.compare import compare_runs
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event

CHECK = "approval_check"


def needs_check(run: BillRun) -> bool:
    """A production run from an approval that has issued nothing and was neither found alike nor confirmed."""
    check = (run.summary or {}).get(CHECK) or {}
    return (run.kind == "production" and run.approved_from_id is not None and not check.get("identical")
            and not check.get("confirmed") and not Invoice.objects.filter(run=run).exists())


def check_against_approved(run: BillRun, *, at: dt.datetime, execute) -> dict:
    """Bill the run's accounts as a fresh test run with `execute` (runs.execute_run) and compare it
    with the approved test run. Returns the check, also kept in the run's summary."""
    from telora.billing.services.runs import delete_run, start_run

    system = Actor.system(f"billrun-{run.pk} approval check")
    approved = BillRun.objects.get(pk=run.approved_from_id)
    check_run = start_run(run.brand, run.cycle, (run.period_start, run.period_end), run.groups, "test",
                          actor=system, at=at)
    check_run = execute(check_run, at=at)
    diff = compare_runs(approved, check_run)
    identical = not (diff["new"] or diff["removed"] or diff["changed"])
    check = {"test_run": approved.pk, "identical": identical, "checked_at": at.isoformat(),
             "same": diff["same"]}
    if identical:
        delete_run(check_run, actor=system, at=at)
    else:
        check.update(check_run=check_run.pk, new=diff["new"], removed=diff["removed"], changed=diff["changed"])
    summary = {**(run.summary or {}), CHECK: check}
    BillRun.objects.filter(pk=run.pk).update(summary=summary, **({} if identical else {"status": "held"}))
    run.summary = summary
    record_event(actor=system, at=at, action="billrun_check", obj=run, brand=run.brand,
                 new={"test_run": approved.pk, "identical": identical,
                      "differences": len(diff["new"]) + len(diff["removed"]) + len(diff["changed"])})
    return check


@transaction.atomic
def confirm_run(run: BillRun, *, actor: Actor, at: dt.datetime) -> BillRun:
    """A held production run goes on and issues the current state (billing.approve); queue its job after."""
    from telora.billing.services.runs import require

    run = BillRun.objects.select_for_update().select_related("brand").get(pk=run.pk)
    require(actor, run.brand, "billing.approve")
    if run.status != "held":
        raise ServiceError(f"status: run {run.pk} is {run.status}, not held for confirmation", field="status")
    summary = dict(run.summary or {})
    summary[CHECK] = {**summary.get(CHECK, {}), "confirmed": {"by": actor.label, "at": at.isoformat()}}
    run.summary, run.status = summary, "queued"
    run.save(update_fields=["summary", "status"])
    record_event(actor=actor, at=at, action="billrun_confirm", obj=run, brand=run.brand,
                 old={"status": "held"}, new={"status": "queued"})
    return run
