"""Procrastinate tasks of rating: one job rates one batch (one file's records of one partition),
and a periodic sweep puts the jobs of a worker that died (no heartbeat) back in the queue."""

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
