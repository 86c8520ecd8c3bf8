"""The background import (job kind inventory_import) and the periodic expiry task's registration."""

import pytest

from telora.core import clock
from telora.core.models import Job
from telora.core.services import Actor
from telora.core.services.actors import PermissionDeniedError
from telora.core.services.jobs import execute
from telora.inventory.models import ImportBatch, SimCard
from telora.inventory.services import start_import

from .factories import SIM_HEADER, make_iccid, sim_row


def test_a_big_file_imports_in_the_background_with_progress(brand_a, make_user, write_csv, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    ann = make_user("ann", {brand_a: ["inventory.view", "inventory.import", "jobs.view"]})
    rows = [sim_row(n) for n in range(2500)] + [sim_row(9999, iccid=make_iccid(1)[:-1] + "x")]
    path = write_csv("sims.csv", SIM_HEADER, rows)
    with path.open("rb") as fh:
        job = start_import(brand_a, "sims", fh, actor=Actor(user=ann), at=clock.now())
    assert job.status == Job.Status.QUEUED and job.params["file_name"] == "sims.csv"
    job = execute(job.pk)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.progress_total == job.progress_done == 2501
    assert job.result["imported"] == 2500 and job.result["failed"] == 1
    assert job.result["errors"] == ["line 2502: iccid: must contain only digits"]
    assert "read 2501, imported 2500" in job.log and "line 2502" in job.log
    batch = ImportBatch.objects.get()
    assert batch.job == job and batch.created_by == ann
    assert SimCard.objects.count() == 2500


def test_starting_an_import_needs_the_import_right(brand_a, make_user, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    clerk = make_user("clerk", {brand_a: ["inventory.view", "inventory.change"]})
    with pytest.raises(PermissionDeniedError, match="inventory.import"):
        start_import(brand_a, "numbers", b"number\n", actor=Actor(user=clerk), at=clock.now())


def test_the_expiry_task_is_periodic():
    from procrastinate.contrib.django import app

    from telora.inventory import jobs

    assert jobs.expire.name == "telora.inventory.expire"
    periodic = [task for task in app.periodic_registry.periodic_tasks.values()
                if task.task.name == "telora.inventory.expire"]
    assert periodic and periodic[0].cron == "*/5 * * * *"
