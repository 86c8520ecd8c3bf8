"""Procrastinate tasks of rating: one job rates one batch (one file's records of one partition),
a periodic sweep puts the jobs of a worker that died (no heartbeat) back in the queue, and the
periodic collector takes files from the pull sources' inboxes every minute."""

import logging

from procrastinate import sql
from procrastinate.contrib.django import app

from telora.core import clock

logger = logging.getLogger(__name__)
TASK = "telora.rating.rate_batch"


@app.task(name=TASK, queue="rating", pass_context=False)
def rate_batch_task(batch_id: int) -> None:
    from telora.rating.services.batches import rate_batch

    rate_batch(batch_id)


def retry_stalled(seconds_since_heartbeat: float = 30) -> int:
    """Rating jobs left `doing` by a worker that stopped sending heartbeats (killed, crashed) go
    back to `todo`: their partition's lock is free again and the batch (still pending, its
    transaction rolled back) is rated by the next worker."""
    rows = app.connector.get_sync_connector().execute_query_all(
        query=sql.queries["select_stalled_jobs_by_heartbeat"], queue=None, task_name=TASK,
        seconds_since_heartbeat=seconds_since_heartbeat)
    for row in rows:
        app.job_manager.retry_job_by_id(row["id"], retry_at=clock.now())
    if rows:
        logger.warning("rating: %s stalled jobs put back in the queue", len(rows))
    return len(rows)


@app.periodic(cron="* * * * *", periodic_id="rating-stalled")
@app.task(name="telora.rating.retry_stalled", queueing_lock="rating-stalled", pass_context=False)
def retry_stalled_task(timestamp: int) -> None:
    retry_stalled()


@app.periodic(cron="* * * * *", periodic_id="rating-collect")
@app.task(name="telora.rating.collect", queueing_lock="rating-collect", pass_context=False)
def collect_task(timestamp: int) -> None:
    """The always-on collector: every minute, one scan of every enabled pull source (for lower
    latency run `telora collect`, which scans every few seconds)."""
    from telora.core.services.actors import Actor
    from telora.rating.services.collector import collect_all

    for report in collect_all(actor=Actor.system("collector"), at=clock.now()):
        for taken in report.taken:
            logger.info("%s", taken.line(report.source))
        if report.error:
            logger.warning("collector %s/%s: %s", report.source.brand.code, report.source.code, report.error)
