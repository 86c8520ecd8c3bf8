"""Usage files on screen: the list and its filters, a file's page with counts, batches and a
progress part that polls while batches are pending, the upload (rating.change), and rating jobs."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rating_helpers import CDRS

from gui_helpers import form_errors, login
from telora.core import clock
from telora.rating.models import RatingBatch, UsageFile
from telora.rating.services import import_usage_file, rate_pending

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]

VIEW = ["rating.view"]
CHANGE = ["rating.view", "rating.change"]
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def lines(line_for):
    return line_for("4520000001"), line_for("4520000002")


def upload(client, content, name="cdrs.csv", source="nord-msc", fmt="csv"):
    return client.post(reverse("rating:upload"), {
        "format": fmt, "source": source, "file": SimpleUploadedFile(name, content, content_type="text/csv")})


def test_upload_takes_the_file_in_and_its_page_follows_the_rating(make_user, nord, lines,
                                                                  django_capture_on_commit_callbacks):
    from procrastinate.contrib.django.models import ProcrastinateJob

    client = login(make_user("rita", {nord: CHANGE}), nord)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, CDRS.read_bytes())
    usage_file = UsageFile.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("rating:file_detail", args=[usage_file.pk])
    assert (usage_file.name, usage_file.source, usage_file.format, usage_file.status) == (
        "cdrs.csv", "nord-msc", "csv", "staged")
    # one Procrastinate job per batch (the two numbers of the file fall in two partitions)
    batch_ids = set(RatingBatch.objects.filter(file=usage_file).values_list("pk", flat=True))
    assert len(batch_ids) == 2
    assert {job.args["batch_id"] for job in ProcrastinateJob.objects.filter(task_name="telora.rating.rate_batch")} \
        == batch_ids

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.context["row"]["progress"] == {"done": 1, "read": 12, "percent": 8, "finished": False,
                                               "colour": "blue"}  # an upload is read at intake: 1 unreadable
    assert page.context["pending"] == 2
    assert 'hx-trigger="every 2s"' in html and reverse("rating:file_progress", args=[usage_file.pk]) in html
    assert usage_file.sha256 in html

    rate_pending(nord)
    part = client.get(reverse("rating:file_progress", args=[usage_file.pk]), **HTMX)
    html = part.content.decode()
    assert part.templates[0].name == "rating/files/_progress.html"
    assert 'data-status="rated"' in html and "hx-trigger" not in html  # done: the polling stops
    counts = {name: part.context["usage_file"].__dict__[name] for name in ("read", "rated", "failed", "duplicate")}
    assert counts == {"read": 12, "rated": 9, "failed": 2, "duplicate": 1}  # as in the examples' README
    assert 'data-testid="count-rated">9<' in html and 'data-testid="count-failed">2<' in html
    assert 'data-testid="count-duplicate">1<' in html and 'data-testid="count-read">12<' in html
    assert part.context["row"]["progress"]["percent"] == 100
    assert [b.status for b in part.context["batches"]] == ["done", "done"]


def test_the_same_file_twice_is_a_form_error(make_user, nord, lines):
    client = login(make_user("rita", {nord: CHANGE}), nord)
    assert upload(client, CDRS.read_bytes()).status_code == 302
    response = upload(client, CDRS.read_bytes(), name="again.csv")
    assert response.status_code == 200
    assert form_errors(response) == {"file": ["again.csv was already imported from nord-msc (same content)"]}
    assert UsageFile.objects.count() == 1


def test_an_unknown_format_and_an_empty_file_are_refused(make_user, nord):
    client = login(make_user("rita", {nord: CHANGE}), nord)
    response = upload(client, b"", fmt="xml")
    errors = form_errors(response)
    assert set(errors) == {"format", "file"}
    assert UsageFile.objects.count() == 0


def test_viewers_get_no_upload(make_user, nord):
    client = login(make_user("vera", {nord: VIEW}), nord)
    assert 'data-testid="upload"' not in client.get(reverse("rating:file_list")).content.decode()
    assert client.get(reverse("rating:upload")).status_code == 403
    assert upload(client, CDRS.read_bytes()).status_code == 403
    assert UsageFile.objects.count() == 0
    clerk = login(make_user("rita", {nord: CHANGE}), nord)
    assert 'data-testid="upload"' in clerk.get(reverse("rating:file_list")).content.decode()


@pytest.fixture
def three_files(nord, lines, system):
    """Three files: csv from nord-msc received 2026-10-01 (rated), csv from pbx 2026-10-03 (staged),
    asterisk from pbx 2026-10-05 (rated)."""
    from rating_helpers import ASTERISK

    day = dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC)
    first = import_usage_file(nord, CDRS, format="csv", source="nord-msc", actor=system, at=day, defer=False)
    rate_pending(nord)
    third = import_usage_file(nord, ASTERISK, format="asterisk", source="pbx", actor=system,
                              at=day + dt.timedelta(days=4), defer=False)
    rate_pending(nord)
    second = import_usage_file(nord, CDRS.read_bytes() + b"\n", format="csv", source="pbx", actor=system,
                               at=day + dt.timedelta(days=2), name="late.csv", defer=False)
    return first, second, third


@pytest.mark.parametrize(("query", "expected"), [
    ("", [2, 1, 0]),
    ("source=pbx", [2, 1]),
    ("status=staged", [1]),
    ("status=rated&source=pbx", [2]),
    ("format=asterisk", [2]),
    ("q=LATE", [1]),
    ("received_from=2026-10-03", [2, 1]),
    ("received_from=2026-10-02&received_to=2026-10-03", [1]),
    ("received_to=2026-10-01", [0]),
])
def test_the_file_list_filters(make_user, nord, three_files, query, expected):
    client = login(make_user("vera", {nord: VIEW}), nord)
    response = client.get(reverse("rating:file_list") + "?" + query)
    assert [row["file"] for row in response.context["rows"]] == [three_files[i] for i in expected]


def test_the_list_shows_counts_and_answers_htmx_with_the_table(make_user, nord, three_files):
    client = login(make_user("vera", {nord: VIEW}), nord)
    response = client.get(reverse("rating:file_list") + "?source=nord-msc", **HTMX)
    assert response.templates[0].name == "rating/files/_table.html"
    html = response.content.decode()
    first = three_files[0]
    row = html[html.index(f'data-file="{first.pk}"'):]
    row = row[:row.index("</tr>")]
    cells = [cell.split(">", 1)[1].split("<", 1)[0] if ">" in cell else "" for cell in row.split("<td")[1:]]
    assert cells[4:9] == ["12", "9", "", "1", "0"]  # read, rated, failed (a link), duplicate, ignored
    assert f"?file={first.pk}&amp;status=any\" class=\"badge bg-red-lt\">2</a>" in row


def test_rating_jobs_list_pending_batches_first_with_their_job(make_user, nord, three_files,
                                                              django_capture_on_commit_callbacks, system):
    client = login(make_user("vera", {nord: VIEW}), nord)
    staged = three_files[1]
    response = client.get(reverse("rating:batch_list"))
    pending = [item["batch"] for item in response.context["pending"]]
    assert [b.file_id for b in pending] == [staged.pk, staged.pk]
    assert [item["job"] for item in response.context["pending"]] == [None, None]  # imported without jobs
    assert response.context["pending_total"] == 2
    assert {b.file_id for b in response.context["done"]} == {three_files[0].pk, three_files[2].pk}
    assert [row["file"] for row in response.context["files"]] == [staged]
    assert 'hx-trigger="every 2s"' in response.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        queued = import_usage_file(nord, b"record_id,service,a_number,b_number,start_time,duration,volume,quantity,"
                                   b"location,charge\nq-1,sms,4520000001,4533123456,2026-10-05T09:15:00+02:00,,,1,,\n",
                                   format="csv", source="api", actor=system, at=clock.now(), name="q.csv")
    response = client.get(reverse("rating:batch_list"), **HTMX)
    assert response.templates[0].name == "rating/batches/_content.html"
    jobs = {item["batch"].file_id: item["job"] for item in response.context["pending"]}
    assert jobs[queued.pk] == "todo"

    rate_pending(nord)
    response = client.get(reverse("rating:batch_list"))
    assert response.context["pending"] == [] and "every 2s" not in response.content.decode()


def test_a_large_upload_is_read_from_its_temporary_file(make_user, nord, lines, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100  # cdrs.csv (934 bytes) goes to a temporary file
    client = login(make_user("rita", {nord: CHANGE}), nord)
    assert upload(client, CDRS.read_bytes(), name="big.csv").status_code == 302
    usage_file = UsageFile.objects.get()
    assert (usage_file.name, usage_file.read, usage_file.size) == ("big.csv", 12, len(CDRS.read_bytes()))


def test_an_upload_with_too_many_bad_lines_is_refused_whole_and_its_page_says_why(make_user, nord, lines,
                                                                                 settings):
    from telora.rating.models import FailedRecord

    settings.TELORA_USAGE_MAX_FAILED = 1
    client = login(make_user("rita", {nord: CHANGE}), nord)
    bad = (b"record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"
           b"x-1,sms,4520000001,4533123456,nope,,,1,DK,\nx-2,sms,4520000001,4533123456,nope,,,1,DK,\n")
    response = upload(client, bad, name="bad.csv")
    assert response.status_code == 200
    assert "was refused: more than 1 lines could not be read" in " ".join(form_errors(response)["file"])
    refused = UsageFile.objects.get()
    assert refused.status == "failed" and not FailedRecord.objects.exists() and not RatingBatch.objects.exists()
    page = client.get(reverse("rating:file_detail", args=[refused.pk])).content.decode()
    assert 'data-testid="file-error"' in page and "TELORA_USAGE_MAX_FAILED" in page


def test_a_large_upload_is_taken_in_by_a_job(make_user, nord, lines, settings, tmp_path):
    from telora.core.models import Job
    from telora.core.services.jobs import execute

    settings.TELORA_UPLOAD_SYNC_BYTES = 100
    settings.MEDIA_ROOT = str(tmp_path)
    client = login(make_user("rita", {nord: CHANGE}), nord)
    response = upload(client, CDRS.read_bytes())
    usage_file = UsageFile.objects.get()
    assert response.status_code == 302 and usage_file.status == "received" and not RatingBatch.objects.exists()
    page = client.get(response["Location"])
    assert page.context["polling"]
    job = Job.objects.get(kind="usage_intake")
    assert execute(job.pk).status == Job.Status.SUCCEEDED
    usage_file.refresh_from_db()
    assert (usage_file.status, usage_file.read, usage_file.failed) == ("staged", 12, 1)
