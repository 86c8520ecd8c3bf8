"""Procrastinate tasks of rating: one job rates one batch (one file's records of one partition),
a periodic sweep puts the jobs of a worker that died (no heartbeat) back in the queue, the
periodic collector takes files from the pull sources' inboxes every minute, and a nightly task
forgets record keys older than TELORA_USAGE_KEY_DAYS when that is set."""

import datetime as dt
import logging

from django.conf import settings
from procrastinate import sql
from procrastinate.contrib.django import app

from telora.core import clock
from telora.core.services.jobs import JobContext, job_kind

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


def requeue_orphans(older_than_seconds: int = 120) -> int:
    """Pending batches without a job waiting or running get one again. A batch's rating commits
    without waiting for its WAL flush (services.batches): should the database itself crash in
    that instant, the batch comes back pending (all its effects undone together) while its job
    is already finished, and this sweep rates it again. It also covers a job lost any other way."""
    from django.db import connection

    from telora.rating.services.intake import enqueue

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT b.brand_id, b.id, b.partition FROM rating_ratingbatch b WHERE b.status = 'pending' "
            "AND b.created_at < %s AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.task_name = %s "
            "AND j.status IN ('todo', 'doing') AND (j.args->>'batch_id')::bigint = b.id) ORDER BY b.id",
            [clock.now() - dt.timedelta(seconds=older_than_seconds), TASK])
        rows = cursor.fetchall()
    for brand_id, batch_id, partition in rows:
        enqueue(brand_id, [(batch_id, partition)])
    if rows:
        logger.warning("rating: %s pending batches without a job queued again", len(rows))
    return len(rows)


@app.periodic(cron="* * * * *", periodic_id="rating-stalled")
@app.task(name="telora.rating.retry_stalled", queueing_lock="rating-stalled", pass_context=False)
def retry_stalled_task(timestamp: int) -> None:
    from telora.core.modules import is_installed

    if not is_installed("rating"):
        return
    retry_stalled()
    requeue_orphans()


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


@app.periodic(cron="37 3 * * *", periodic_id="rating-forget-keys")
@app.task(name="telora.rating.forget_keys", queueing_lock="rating-forget-keys", pass_context=False)
def forget_keys_task(timestamp: int) -> None:
    """Nightly: usage keys older than TELORA_USAGE_KEY_DAYS are forgotten (nothing when it is unset)."""
    from telora.rating.services.storage import forget_keys

    forgotten = forget_keys()
    if forgotten:
        logger.info("rating: %s usage keys older than %s days forgotten", forgotten, settings.TELORA_USAGE_KEY_DAYS)


@job_kind("usage_intake", title="Usage file intake", permission="rating.change")
def take_in_usage_file(ctx: JobContext, *, usage_file_id: int) -> dict:
    """Take in an upload kept by `receive_usage_file` (too large to read in the request); the
    person who sent it is the actor. A refused file keeps its reason on the file and fails the job."""
    from telora.core.services import Actor
    from telora.rating.models import UsageFile
    from telora.rating.services.intake import take_in_received

    usage_file = UsageFile.objects.select_related("brand").get(pk=usage_file_id)
    creator = ctx.job.created_by
    actor = Actor(user=creator, job="usage_intake") if creator else Actor.system("usage_intake")
    usage_file = take_in_received(usage_file, actor=actor, at=clock.now())
    ctx.log(f"{usage_file.name}: read {usage_file.read}, failed {usage_file.failed}, status {usage_file.status}")
    return {"usage_file": usage_file.pk, "read": usage_file.read, "failed": usage_file.failed,
            "status": usage_file.status}
