"""The bill run as a job kind: `start_job("billing.run", params={"run_id": ...})` runs it on a worker."""

from telora.core.services.jobs import job_kind


@job_kind("billing.run", title="Bill run", permission="billing.change")
def run_bill_run(ctx, *, run_id: int) -> dict:
    from telora.billing.models import BillRun
    from telora.billing.services.runs import execute_run

    run = BillRun.objects.get(pk=run_id)
    BillRun.objects.filter(pk=run_id).update(job=ctx.job)

    def progress(done: int, total: int) -> None:
        ctx.job.progress_done = done
        type(ctx.job).objects.filter(pk=ctx.job.pk).update(progress_done=done, progress_total=total)

    run = execute_run(run, progress=progress)
    return {"invoices": run.summary.get("invoices"), "parked": len(run.summary.get("parked", []))}
