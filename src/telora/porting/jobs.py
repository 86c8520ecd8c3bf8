"""Procrastinate tasks of porting: every minute, the messages to the clearing house whose send after
commit did not happen (or must be tried again) and the port-in flows not yet told of their answer.
The deadlines and porting windows are BPMN timers of the flows (the workflows' timer job)."""

from __future__ import annotations

import logging

from procrastinate.contrib.django import app

from telora.core import clock
from telora.core.models import Brand
from telora.core.modules import running

logger = logging.getLogger(__name__)


@app.periodic(cron="* * * * *", periodic_id="porting-due")
@app.task(name="telora.porting.due", queueing_lock="porting-due")
def porting_due(timestamp: int) -> None:
    from telora.porting.services import notify_pending, send_pending

    brand_ids = list(running("porting", Brand.objects.all()).values_list("pk", flat=True))
    sent = send_pending(at=clock.now(), brand_ids=brand_ids)
    told = notify_pending(at=clock.now(), brand_ids=brand_ids)
    if sent or told:
        logger.info("porting: %s messages tried; flows told: %s", sent, told)
