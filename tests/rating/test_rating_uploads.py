"""Uploads: a body over TELORA_UPLOAD_MAX_BYTES is a 413 before it is read (every upload endpoint);
a usage file over TELORA_UPLOAD_SYNC_BYTES is kept and taken in by a job (202 with the job); a
file with more bad lines than TELORA_USAGE_MAX_FAILED is refused whole with its reason."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rating_api_helpers import RATER, client_for

from telora.core import clock
from telora.core.models import Job
from telora.core.services.jobs import execute
from telora.rating.models import FailedRecord, RatedUsage, RatingBatch, UsageFile
from telora.rating.services import import_usage_file, rate_pending

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]
FILES = "/api/v1/usage/files"
HEADER = "record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"


@pytest.fixture
def lines(line_for):
    return line_for("4520000001"), line_for("4520000002")


@pytest.fixture
def rater(nord, system, make_user):
    return client_for(system, make_user, "rita", {nord: RATER})


def good_lines(n, prefix="g"):
    start = (clock.now() - dt.timedelta(days=2)).replace(microsecond=0).isoformat()
    return "".join(f"{prefix}-{i},sms,4520000001,4533123456,{start},,,1,DK,\n" for i in range(n))


def bad_lines(n):
    return "".join(f"b-{i},sms,4520000001,4533123456,not-a-time,,,1,DK,\n" for i in range(n))


def send(api, content: bytes, name="usage.csv"):
    return api.upload(FILES, {"file": SimpleUploadedFile(name, content, "text/csv"), "format": "csv",
                              "source": "nord-msc", "brand": "NORD"})


def test_a_body_over_the_cap_is_413_before_it_is_read(nord, lines, rater, settings):
    settings.TELORA_UPLOAD_MAX_BYTES = 2000
    response = send(rater, (HEADER + good_lines(40)).encode())
    assert response.status_code == 413
    body = response.json()
    assert (body["code"], body["field"]) == ("too_large", "file")
    assert "at most 2000 bytes may be sent (TELORA_UPLOAD_MAX_BYTES)" in body["message"]
    assert not UsageFile.objects.exists()
    assert send(rater, (HEADER + good_lines(5)).encode()).status_code == 202


@pytest.mark.parametrize("path", ["/api/v1/inventory/uploads", "/api/v1/config/apply", "/rating/files/upload/",
                                  "/inventory/imports/upload/"])
def test_every_upload_endpoint_has_the_cap(nord, rater, settings, path):
    settings.TELORA_UPLOAD_MAX_BYTES = 1000
    response = Client().post(path, {"file": SimpleUploadedFile("x.csv", b"x" * 5000)})
    assert response.status_code == 413
    assert b"TELORA_UPLOAD_MAX_BYTES" in response.content


def test_a_large_usage_file_is_kept_and_taken_in_by_a_job(nord, lines, rater, settings, tmp_path):
    settings.TELORA_UPLOAD_SYNC_BYTES = 500
    settings.MEDIA_ROOT = str(tmp_path)
    content = (HEADER + good_lines(30)).encode()
    response = send(rater, content)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "received" and body["read"] == 0 and body["job"]
    assert response["X-Job"] == f"/api/v1/jobs/{body['job']}"
    assert not RatingBatch.objects.exists()  # nothing was read in the request
    job = execute(body["job"])
    assert job.status == Job.Status.SUCCEEDED, job.error
    usage_file = UsageFile.objects.get(pk=body["id"])
    assert (usage_file.status, usage_file.read) == ("staged", 30)
    rate_pending(nord)
    assert RatedUsage.objects.filter(file_id=usage_file.pk).count() == 30
    assert send(rater, content).status_code == 409  # the same content again


def test_a_file_with_more_bad_lines_than_the_cap_is_refused_whole(nord, lines, rater, settings):
    settings.TELORA_USAGE_MAX_FAILED = 5
    content = (HEADER + good_lines(3) + bad_lines(6) + good_lines(3, "h")).encode()
    response = send(rater, content)
    assert response.status_code == 400
    assert response.json()["field"] == "file"
    usage_file = UsageFile.objects.get()
    assert usage_file.status == "failed"
    assert usage_file.error.startswith("more than 5 lines could not be read or were out of range "
                                       "(TELORA_USAGE_MAX_FAILED); nothing of the file was taken in. First: line 5:")
    assert not FailedRecord.objects.exists() and not RatingBatch.objects.exists()  # nothing half-taken
    assert rater.get(f"{FILES}/{usage_file.pk}").json()["error"] == usage_file.error
    again = send(rater, content)
    assert again.status_code == 409 and "was refused before" in again.json()["message"]


def test_at_the_cap_the_file_is_taken_in_with_its_failed_lines(nord, lines, system, settings, tmp_path):
    settings.TELORA_USAGE_MAX_FAILED = 5
    path = tmp_path / "five.csv"
    path.write_text(HEADER + good_lines(2) + bad_lines(5))
    usage_file = import_usage_file(nord, path, format="csv", source="s", actor=system, at=clock.now(), split=False)
    assert (usage_file.status, usage_file.failed) == ("staged", 5)
    assert FailedRecord.objects.filter(file=usage_file, reason="PARSE_ERROR").count() == 5


def test_a_large_file_refused_in_its_job_keeps_its_reason(nord, lines, rater, settings, tmp_path):
    settings.TELORA_UPLOAD_SYNC_BYTES = 100
    settings.TELORA_USAGE_MAX_FAILED = 2
    settings.MEDIA_ROOT = str(tmp_path)
    body = send(rater, (HEADER + bad_lines(4)).encode()).json()
    job = execute(body["job"])
    assert job.status == Job.Status.FAILED and "was refused: more than 2 lines" in job.error
    usage_file = UsageFile.objects.get(pk=body["id"])
    assert usage_file.status == "failed" and usage_file.error.startswith("more than 2 lines")
    assert not FailedRecord.objects.exists()
