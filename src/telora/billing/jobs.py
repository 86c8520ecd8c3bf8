"""The bill run as a job kind: `start_job("billing.run", params={"run_id": ...})` runs it on a worker,
holding the run's lock (services.resume) while it works; a periodic sweep resumes the production
runs whose worker died (killed, crashed) before they finished; an hourly task takes the prepaid
renewals due (services.renewals)."""

import logging

from procrastinate.contrib.django import app

from telora.core.services.jobs import job_kind

logger = logging.getLogger(__name__)


@job_kind("billing.run", title="Bill run", permission="billing.change")
def run_bill_run(ctx, *, run_id: int) -> dict:
    from telora.billing.models import BillRun
    from telora.billing.services.resume import executing
    from telora.billing.services.runs import execute_run

    run = BillRun.objects.get(pk=run_id)
    if run.status == "done":  # a stale job of a run finished meanwhile: nothing to do
        return {"invoices": run.summary.get("invoices"), "parked": len(run.summary.get("parked", []))}
    with executing(run_id):  # another session executing the run: this job fails and says so
        BillRun.objects.filter(pk=run_id).update(job=ctx.job)

        def progress(done: int, total: int) -> None:
            ctx.job.progress_done = done
            type(ctx.job).objects.filter(pk=ctx.job.pk).update(progress_done=done, progress_total=total)

        run = execute_run(run, progress=progress)
    if run.status == "held":
        return {"held": True, "approval_check": run.summary.get("approval_check")}
    return {"invoices": run.summary.get("invoices"), "parked": len(run.summary.get("parked", []))}


@app.periodic(cron="* * * * *", periodic_id="billing-stalled")
@app.task(name="telora.billing.resume_stalled", queueing_lock="billing-stalled", pass_context=False)
def resume_stalled_task(timestamp: int) -> None:
    """Every minute: production runs left queued or running by a worker that is gone get a new job."""
    from telora.billing.services.resume import resume_stalled

    for run in resume_stalled():
        logger.warning("billrun %s resumed by the sweep (job %s)", run.pk, run.job_id)


@app.periodic(cron="5 * * * *", periodic_id="billing-renewals")
@app.task(name="telora.billing.renew_prepaid", queueing_lock="billing-renewals", pass_context=False)
def renew_prepaid_task(timestamp: int) -> None:
    """Every hour: the prepaid renewals due today in each brand running billing and rating (its
    local day; a renewal is taken once, so the hours after the first only catch lines activated or
    topped up meanwhile). One brand's failure is logged; the others go on."""
    from telora.billing.services.renewals import renew_due
    from telora.core import clock
    from telora.core.models import Brand
    from telora.core.modules import running
    from telora.core.services.actors import Actor

    for brand in running("rating", running("billing", Brand.objects.filter(is_active=True))).order_by("pk"):
        try:
            counts = renew_due(brand, None, actor=Actor.system("renewals"), at=clock.now())
        except Exception:
            logger.exception("prepaid renewals of %s failed", brand.code)
            continue
        if any(counts[k] for k in ("paid", "negative", "skipped", "late")):
            logger.info("prepaid renewals of %s: %s", brand.code, counts)

