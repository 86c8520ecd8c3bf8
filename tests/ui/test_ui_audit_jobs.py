"""The audit log search and the jobs screens: progress, polling, audit export and its download."""

import datetime as dt

import pytest
from django.urls import reverse

from telora.core import clock
from telora.core.models import AuditEvent, Job
from telora.core.services.jobs import execute
from telora.core.services.users import update_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def auditor(make_user, brand_a):
    return make_user("aud", {brand_a: ["audit.view", "jobs.view", "jobs.run", "users.view"]})


def test_audit_search_by_object_actor_action_and_time(auditor, make_user, brand_a, brand_b, client_for, system):
    ann = make_user("ann", {brand_a: ["users.view"]})
    make_user("bob", {brand_b: ["users.view"]})
    update_user(ann, actor=system, at=clock.now(), email="ann@new.example")
    client = client_for(auditor)

    def events(**params):
        response = client.get(reverse("ui:audit_list"), params)
        assert response.status_code == 200
        return list(response.context["object_list"])

    by_object = events(object_type="core.user", object_id=ann.pk)
    assert {e.action for e in by_object} == {"create", "grant", "update"}
    assert all(e.object_id == str(ann.pk) for e in by_object)
    assert {e.action for e in events(actor="job:tests", action="update")} == {"update"}
    assert events(until=(clock.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")) == []
    # Brand B's events stay out of reach.
    assert all(e.brand_id in (None, brand_a.pk) for e in events())
    assert not any(e.object_repr == "bob" for e in events())


def test_audit_list_is_paged(auditor, brand_a, client_for, system):
    for i in range(60):
        update_user(auditor, actor=system, at=clock.now(), first_name=f"A{i}")
    client = client_for(auditor)
    first = client.get(reverse("ui:audit_list"))
    assert len(first.context["object_list"]) == 50
    assert first.context["page_obj"].has_next()
    second = client.get(reverse("ui:audit_list"), {"page": 2})
    assert second.status_code == 200
    assert len(second.context["object_list"]) >= 10


def test_audit_export_job_runs_and_its_file_is_downloaded(auditor, brand_a, client_for):
    client = client_for(auditor)
    response = client.post(reverse("ui:job_start_audit_export"))
    job = Job.objects.get()
    assert response.url == reverse("ui:job_detail", args=[job.pk])
    assert job.brand == brand_a and job.params == {"brand_id": brand_a.pk}
    assert AuditEvent.objects.for_object(job).filter(action="start", actor_user=auditor).exists()

    queued = client.get(reverse("ui:job_detail", args=[job.pk])).content.decode()
    assert f'hx-get="{reverse("ui:job_progress", args=[job.pk])}"' in queued  # polls while unfinished
    assert 'data-testid="job-download"' not in queued

    execute(job.pk)
    progress = client.get(reverse("ui:job_progress", args=[job.pk]), headers={"HX-Request": "true"}).content.decode()
    assert 'data-status="succeeded"' in progress
    assert "hx-get" not in progress  # finished: polling stops
    assert "wrote" in progress  # the job's log

    download = client.get(reverse("ui:job_download", args=[job.pk]))
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    assert b"".join(download.streaming_content).startswith(b"at,actor,brand_id")


def test_download_needs_the_right_the_job_kind_asked_for(auditor, make_user, brand_a, client_for):
    client_for(auditor).post(reverse("ui:job_start_audit_export"))
    job = Job.objects.get()
    execute(job.pk)
    jobs_only = client_for(make_user("jo", {brand_a: ["jobs.view"]}))
    assert jobs_only.get(reverse("ui:job_detail", args=[job.pk])).status_code == 200
    assert jobs_only.get(reverse("ui:job_download", args=[job.pk])).status_code == 404


def test_result_file_outside_media_root_is_refused(auditor, brand_a, client_for, system):
    from telora.core.services.jobs import start_job

    job = start_job("audit_export", actor=system, at=clock.now(), brand=brand_a, params={"brand_id": brand_a.pk})
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, result={"file": "../../etc/passwd"})
    assert client_for(auditor).get(reverse("ui:job_download", args=[job.pk])).status_code == 404


def test_job_list_shows_the_active_brands_jobs_with_progress(auditor, brand_a, brand_b, client_for, system):
    from telora.core.services.jobs import start_job

    mine = start_job("audit_export", actor=system, at=clock.now(), brand=brand_a, params={"brand_id": brand_a.pk})
    start_job("audit_export", actor=system, at=clock.now(), brand=brand_b, params={"brand_id": brand_b.pk})
    Job.objects.filter(pk=mine.pk).update(status=Job.Status.RUNNING, progress_done=3, progress_total=4)
    response = client_for(auditor).get(reverse("ui:job_list"))
    assert [j.pk for j in response.context["object_list"]] == [mine.pk]
    html = response.content.decode()
    assert "width: 75%" in html
    assert "hx-trigger=\"every" in html  # the table refreshes while a job runs
    finished = client_for(auditor).get(reverse("ui:job_list"), {"status": "succeeded"})
    assert list(finished.context["object_list"]) == []


def test_job_without_run_right_cannot_be_started(make_user, brand_a, client_for):
    viewer = make_user("vic", {brand_a: ["jobs.view"]})  # no audit.view: the export kind needs it
    response = client_for(viewer).post(reverse("ui:job_start_audit_export"))
    assert response.status_code == 302
    assert response.url == reverse("ui:job_list")
    assert not Job.objects.exists()
