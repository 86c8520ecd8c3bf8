"""CSV uploads from the GUI: a background job followed live, then the report of bad lines with
their numbers; the history of uploads; uploading needs inventory.import."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gui_helpers import login
from telora.core.models import Job
from telora.core.services.jobs import execute
from telora.inventory.models import ImportBatch, PhoneNumber, SimCard

from .factories import SIM_HEADER, make_iccid, sim_row
from .inventory_gui_helpers import EVERYTHING, VIEW

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def csv_file(name, header, rows) -> SimpleUploadedFile:
    lines = [",".join(header)] + [",".join(row) for row in rows]
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(), content_type="text/csv")


def test_a_sim_upload_reports_bad_lines_by_number(make_user, brand_a):
    client = login(make_user("ian", {brand_a: EVERYTHING}), brand_a)
    bad_luhn = make_iccid(2)[:-1] + str((int(make_iccid(2)[-1]) + 1) % 10)
    rows = [sim_row(1), sim_row(2, iccid=bad_luhn), sim_row(3), sim_row(4, imsi="123")]
    response = client.post(reverse("inventory:upload"), {"what": "sims",
                                                         "file": csv_file("delivery.csv", SIM_HEADER, rows)})
    job = Job.objects.get(kind="inventory_import")
    assert response.url == reverse("inventory:import_job", args=[job.pk])
    assert job.params["file_name"] == "delivery.csv" and job.created_by.username == "ian"

    waiting = client.get(response.url).content.decode()
    assert f'hx-get="{reverse("inventory:import_progress", args=[job.pk])}"' in waiting
    assert "Waiting for a worker" in waiting

    execute(job.pk)
    progress = client.get(reverse("inventory:import_progress", args=[job.pk]), headers={"HX-Request": "true"})
    html = progress.content.decode()
    assert 'data-status="succeeded"' in html and "hx-get" not in html
    batch = progress.context["batch"]
    assert (batch.rows_read, batch.rows_imported, batch.rows_failed) == (4, 2, 2)
    assert batch.errors[0].startswith("line 3: iccid: ")
    assert batch.errors[1].startswith("line 5: imsi: ")
    assert "line 3: iccid:" in html and "line 5: imsi:" in html
    assert SimCard.objects.filter(brand=brand_a).count() == 2

    detail = client.get(reverse("inventory:import_detail", args=[batch.pk]))
    assert detail.status_code == 200 and "line 5: imsi:" in detail.content.decode()
    errors = client.get(reverse("inventory:import_errors", args=[batch.pk]))
    assert errors.content.decode().splitlines() == batch.errors
    history = client.get(reverse("inventory:import_list")).context["object_list"]
    assert list(history) == [batch]


def test_a_numbers_upload(make_user, brand_a):
    client = login(make_user("ian", {brand_a: EVERYTHING}), brand_a)
    rows = [["+31 6 10000001", ""], ["0610000002", "nope"], ["12", ""]]
    client.post(reverse("inventory:upload"), {"what": "numbers", "file": csv_file("n.csv", ["number", "group"],
                                                                                     rows)})
    job = execute(Job.objects.get().pk)
    batch = ImportBatch.objects.get(job=job)
    assert batch.kind == "numbers" and batch.rows_imported == 1
    assert [e.split(":")[0] for e in batch.errors] == ["line 3", "line 4"]
    assert "unknown number group 'nope'" in batch.errors[0]
    assert PhoneNumber.objects.filter(brand=brand_a).count() == 1


def test_a_file_with_a_bad_header_fails_with_a_plain_reason(make_user, brand_a):
    client = login(make_user("ian", {brand_a: EVERYTHING}), brand_a)
    client.post(reverse("inventory:upload"), {"what": "sims", "file": csv_file("x.csv", ["serial"], [["1"]])})
    job = execute(Job.objects.get().pk)
    page = client.get(reverse("inventory:import_job", args=[job.pk]))
    assert page.context["error_line"] == ("header: unknown column 'serial'; the columns are iccid, imsi, pin1, puk1, "
                                          "pin2, puk2, sim_type, partner, batch")
    assert 'data-testid="import-failed"' in page.content.decode() and "Traceback" not in page.content.decode()


def test_uploading_needs_the_import_right(make_user, brand_a):
    viewer = login(make_user("ivy", {brand_a: VIEW}), brand_a)
    assert 'data-testid="upload"' not in viewer.get(reverse("inventory:import_list")).content.decode()
    response = viewer.post(reverse("inventory:upload"), {"what": "sims", "file": csv_file("s.csv", SIM_HEADER,
                                                                                         [sim_row(1)])})
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_the_import_page_needs_no_jobs_area(make_user, brand_a):
    importer = make_user("ian", {brand_a: ["inventory.view", "inventory.import"]})
    client = login(importer, brand_a)
    client.post(reverse("inventory:upload"), {"what": "sims", "file": csv_file("s.csv", SIM_HEADER, [sim_row(1)])})
    job = Job.objects.get()
    assert client.get(reverse("inventory:import_job", args=[job.pk])).status_code == 200
    assert client.get(reverse("ui:job_detail", args=[job.pk])).status_code == 404  # the jobs area is not theirs
