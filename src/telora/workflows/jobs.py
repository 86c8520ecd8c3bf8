"""The periodic task that fires due timers and retries of waiting flow instances."""

from __future__ import annotations

from procrastinate.contrib.django import app

from telora.core import clock


@app.periodic(cron="* * * * *", periodic_id="workflows_timers")
@app.task(name="telora.workflows.timers", queueing_lock="workflows_timers")
def fire_timers(timestamp: int) -> None:
    """Every minute: instances whose timer (intermediate or boundary) or service-task retry is due."""
    from telora.core.modules import is_installed
    from telora.workflows.services import wake_due

    if is_installed("workflows"):
        wake_due(at=clock.now())
