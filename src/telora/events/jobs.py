"""Procrastinate tasks of the events app: the dispatcher (woken after each commit that emitted events,
and every minute as a safety net), the webhook sender, and the daily clean-up of old events."""

from __future__ import annotations

import logging

from procrastinate import exceptions
from procrastinate.contrib.django import app

logger = logging.getLogger(__name__)


@app.task(name="telora.events.dispatch", queueing_lock="events-dispatch", pass_context=False)
def dispatch_task() -> None:
    from telora.events.services.dispatch import dispatch_all

    totals = dispatch_all()
    if any(totals.values()):
        logger.info("events dispatched: %s", totals)


def defer_dispatch() -> None:
    """Queue one dispatch; one already waiting in the queue will see the new events too."""
    try:
        dispatch_task.defer()
    except exceptions.AlreadyEnqueued:
        pass


@app.periodic(cron="* * * * *", periodic_id="events_dispatch")
@app.task(name="telora.events.dispatch_periodic", queueing_lock="events-dispatch-periodic", pass_context=False)
def dispatch_periodic(timestamp: int) -> None:
    """Every minute: consumers backing off after a failure, and anything a lost wake-up left waiting."""
    dispatch_task()
    send_webhooks_task()


@app.task(name="telora.events.send_webhooks", queueing_lock="events-send-webhooks", pass_context=False)
def send_webhooks_task() -> None:
    from telora.events.services.deliveries import send_due

    sent = send_due()
    if sent:
        logger.info("webhooks: %s tries", sent)


def defer_send() -> None:
    """Queue one send of the due deliveries (retries later than now wait for the minute's sweep)."""
    try:
        send_webhooks_task.defer()
    except exceptions.AlreadyEnqueued:
        pass


@app.periodic(cron="23 4 * * *", periodic_id="events_purge")
@app.task(name="telora.events.purge", queueing_lock="events-purge", pass_context=False)
def purge_task(timestamp: int) -> None:
    """Daily: events older than TELORA_EVENTS_KEEP_DAYS that every consumer has passed."""
    from telora.events.services.retention import purge_events

    removed = purge_events()
    if removed:
        logger.info("events: %s old events removed", removed)
