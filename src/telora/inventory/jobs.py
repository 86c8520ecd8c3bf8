"""Procrastinate tasks of the inventory: the expiry sweep and the background CSV import."""

import logging

from django.core.files.storage import default_storage
from procrastinate.contrib.django import app

from telora.core import clock
from telora.core.models import Brand
from telora.core.services import Actor
from telora.core.services.jobs import JobContext, job_kind
from telora.inventory.services import release_expired
from telora.inventory.services.imports import IMPORTERS

logger = logging.getLogger(__name__)


def sweep_expired() -> dict:
    """Run-out reservations and quarantines become available (they already count as free)."""
    counts = release_expired(actor=Actor.system("inventory_expiry"), at=clock.now())
    if any(counts.values()):
        logger.info("inventory expiry: %s", counts)
    return counts


@app.periodic(cron="*/5 * * * *", periodic_id="inventory_expiry")
@app.task(name="telora.inventory.expire", queueing_lock="inventory_expiry")
def expire(timestamp: int) -> None:
    """Every five minutes (not when the installation does not run the inventory)."""
    from telora.core.modules import is_installed

    if is_installed("inventory"):
        sweep_expired()


@job_kind("inventory_import", title="Inventory import (CSV)", permission="inventory.import")
def run_import(ctx: JobContext, *, brand_id: int, what: str, path: str, file_name: str = "") -> dict:
    """Import an uploaded file kept by `start_import`; the person who started it is the actor."""
    brand = Brand.objects.get(pk=brand_id)
    creator = ctx.job.created_by
    actor = Actor(user=creator, job="inventory_import") if creator else Actor.system("inventory_import")
    with default_storage.open(path, "rb") as fh:
        result = IMPORTERS[what](brand, fh, actor=actor, at=clock.now(), file_name=file_name or path,
                                 progress=ctx, job=ctx.job)
    ctx.log(result.summary())
    for error in result.errors[:200]:
        ctx.log(str(error))
    if len(result.errors) > 200:
        ctx.log(f"... and {len(result.errors) - 200} more (see import batch #{result.batch.pk})")
    return result.as_dict()
