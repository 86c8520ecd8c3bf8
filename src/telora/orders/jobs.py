"""The periodic task that starts future-dated orders when their date comes."""

from __future__ import annotations

from procrastinate.contrib.django import app

from telora.core import clock


@app.periodic(cron="*/5 * * * *", periodic_id="orders_due")
@app.task(name="telora.orders.due", queueing_lock="orders_due")
def due_orders(timestamp: int) -> None:
    """Every five minutes: start the waiting orders whose date has come (brands running orders)."""
    from telora.orders.services import run_due_orders

    run_due_orders(at=clock.now())
