"""Procrastinate tasks of provisioning: one request sent now (deferred when it is queued or its
backoff ends) and, every minute, whatever is due (retries, tries whose worker died) and the flows not
told yet."""

from __future__ import annotations

import logging

from procrastinate.contrib.django import app

from telora.core import clock
from telora.core.models import Brand
from telora.core.modules import running
from telora.provisioning import reconcile  # noqa: F401  (its job kind: the target page's reconciliation)

logger = logging.getLogger(__name__)


def _brand_ids():
    return list(running("provisioning", Brand.objects.all()).values_list("pk", flat=True))


@app.task(name="telora.provisioning.send", queue="default", pass_context=False)
def send_task(request_id: int) -> str:
    from telora.provisioning.services import send_request

    return send_request(request_id, at=clock.now())


@app.periodic(cron="* * * * *", periodic_id="provisioning-due")
@app.task(name="telora.provisioning.due", queueing_lock="provisioning-due")
def send_all(timestamp: int) -> None:
    from telora.provisioning.manual import open_missing
    from telora.provisioning.polling import poll_lost
    from telora.provisioning.services import notify_pending, send_due

    brand_ids = _brand_ids()
    counts = send_due(at=clock.now(), brand_ids=brand_ids)
    polled = poll_lost(at=clock.now(), brand_ids=brand_ids)  # acknowledged requests whose callback was lost
    told = notify_pending(at=clock.now(), brand_ids=brand_ids)
    desk_tasks = open_missing(at=clock.now(), brand_ids=brand_ids)  # manual requests without their desk task
    if counts or told or polled or desk_tasks:
        logger.info("provisioning: %s; polled: %s; flows told: %s; desk tasks opened: %s", counts, polled, told,
                    desk_tasks)


@app.periodic(cron="*/5 * * * *", periodic_id="provisioning-barring-sweep")
@app.task(name="telora.provisioning.barring_sweep", queueing_lock="provisioning-barring-sweep")
def barring_sweep(timestamp: int) -> None:
    """Lines barred for balance whose balance came back without an event (a re-rate, an OCS credit)."""
    from telora.provisioning.barring import sweep

    unbarred = sweep(at=clock.now(), brand_ids=_brand_ids())
    if unbarred:
        logger.info("provisioning: %s lines unbarred by the barring sweep", unbarred)
