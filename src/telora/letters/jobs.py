"""Procrastinate tasks of the letters module: sending (deferred when a letter is queued, and every
minute for retries and letters left `sending` by a process that died), the SMS delivery receipts,
and invoice delivery of a production run as a job."""

from __future__ import annotations

import logging

from procrastinate.contrib.django import app

from telora.core import clock
from telora.core.models import Brand
from telora.core.modules import running
from telora.core.services import Actor
from telora.core.services.jobs import JobContext, job_kind

logger = logging.getLogger(__name__)


def _brand_ids():
    return list(running("letters", Brand.objects.all()).values_list("pk", flat=True))


@app.task(name="telora.letters.send", queue="default", pass_context=False)
def send_letters_task(channel: str) -> dict:
    from telora.letters.services.outbox import send_due

    return send_due(channel, brand_ids=_brand_ids())


@app.periodic(cron="* * * * *", periodic_id="letters-send")
@app.task(name="telora.letters.send_all", queueing_lock="letters-send-all")
def send_all(timestamp: int) -> None:
    """Every minute: the letters due (retries after backoff, stale `sending` ones), then receipts."""
    from django.conf import settings

    from telora.letters.services.outbox import collect_receipts, send_due

    brand_ids = _brand_ids()
    for channel in ("email", "sms"):
        counts = send_due(channel, brand_ids=brand_ids)
        if any(counts.values()):
            logger.info("letters %s: %s", channel, counts)
    if getattr(settings, "TELORA_SMPP", None):
        collect_receipts(seconds=2.0)


@job_kind("letters.deliver_invoices", title="Invoice delivery", permission="letters.send")
def deliver_invoices(ctx: JobContext, *, run_id: int) -> dict:
    from telora.billing.models import BillRun
    from telora.letters.services.invoices import deliver_run

    run = BillRun.objects.select_related("brand").get(pk=run_id)
    if run.brand_id != ctx.job.brand_id:
        raise ValueError(f"bill run {run_id} is not in the job's brand")
    creator = ctx.job.created_by
    actor = Actor(user=creator, job="letters.deliver_invoices") if creator else Actor.system("letters.deliver_invoices")
    result = deliver_run(run, actor=actor, at=clock.now())
    for number, reason in result["failed"]:
        ctx.log(f"invoice {number}: {reason}")
    return {"letters": result["letters"], "failed": len(result["failed"])}
