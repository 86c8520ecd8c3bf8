"""Procrastinate tasks of core: the generic job runner and periodic housekeeping.

Periodic tasks of every app are declared with `@app.periodic(...)` in that app's jobs.py;
Procrastinate's Django integration discovers those modules (PROCRASTINATE_AUTODISCOVER_MODULE_NAME).
"""

import logging

from django.contrib.sessions.models import Session
from procrastinate.contrib.django import app

from telora.core import clock
from telora.core.services import jobs as job_services
from telora.core.services.logins import purge_attempts

logger = logging.getLogger(__name__)


def on_app_ready(procrastinate_app):
    """Hook named by PROCRASTINATE_ON_APP_READY; nothing to adjust yet."""


@app.task(name="telora.core.run_job", queue="default", pass_context=False)
def run_job(job_id: int) -> None:
    job_services.execute(job_id)


@app.periodic(cron="17 3 * * *", periodic_id="housekeeping")
@app.task(name="telora.core.housekeeping", queueing_lock="housekeeping")
def housekeeping(timestamp: int) -> None:
    """Daily: drop expired sessions and old login attempts."""
    now = clock.now()
    sessions, _ = Session.objects.filter(expire_date__lt=now).delete()
    attempts = purge_attempts(at=now)
    logger.info("housekeeping: %s sessions, %s login attempts removed", sessions, attempts)


@job_services.job_kind("audit_export", title="Audit export (CSV)", permission="audit.view")
def export_audit(ctx: job_services.JobContext, *, brand_id: int | None = None, since: str = "",
                 until: str = "") -> dict:
    """Write the audit events of a brand (and period) to a CSV file the GUI offers for download."""
    import datetime as dt
    import json

    from django.conf import settings

    from telora.core.exports import csv_writer
    from telora.core.models import AuditEvent

    events = AuditEvent.objects.all().order_by("at", "id")
    if brand_id is not None:
        events = events.filter(brand_id=brand_id)
    if since:
        events = events.filter(at__gte=dt.datetime.fromisoformat(since))
    if until:
        events = events.filter(at__lt=dt.datetime.fromisoformat(until))
    ctx.set_total(events.count())
    relative = f"exports/audit-{ctx.job.pk}.csv"
    path = settings.MEDIA_ROOT / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("w", newline="") as fh:
        writer = csv_writer(fh)
        writer.writerow(["at", "actor", "brand_id", "object_type", "object_id", "object", "action",
                         "changes", "request_id", "address"])
        batch = 0
        for event in events.iterator(chunk_size=2000):
            writer.writerow([event.at.isoformat(), event.actor_label, event.brand_id or "", event.object_type,
                             event.object_id, event.object_repr, event.action,
                             json.dumps(event.changes, sort_keys=True), event.request_id, event.address or ""])
            rows += 1
            batch += 1
            if batch == 2000:
                ctx.advance(batch)
                batch = 0
        ctx.advance(batch)
    ctx.log(f"wrote {rows} events")
    return {"file": relative, "rows": rows}
