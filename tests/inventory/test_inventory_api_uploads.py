"""/api/v1/inventory/uploads and /api/v1/jobs: CSV imports now or in the background, bad rows by line, rights."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from telora.core.models import AuditEvent, Job
from telora.core.services.jobs import execute
from telora.inventory.models import ImportBatch, SimCard

from .factories import SIM_HEADER, make_iccid, sim_row
from .inventory_api_helpers import INV, READ, client_for

pytestmark = pytest.mark.django_db

UPLOADS = f"{INV}/uploads"
IMPORTER = ["inventory.view", "inventory.import"]


def csv_file(rows, header=SIM_HEADER, name="sims.csv"):
    lines = [",".join(header)] + [",".join(row) for row in rows]
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(), "text/csv")


def sims_with_bad_rows():
    return [sim_row(1), sim_row(2, iccid=make_iccid(2)[:-1] + "0"), sim_row(3), sim_row(4, imsi="123")]


@pytest.fixture
def importer(brand_a, system, make_user):
    return client_for(system, make_user, "ida", {brand_a: IMPORTER})


def test_a_small_file_imports_at_once_and_reports_bad_rows_by_line(importer):
    response = importer.upload(UPLOADS, {"file": csv_file(sims_with_bad_rows()), "kind": "sims"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"{UPLOADS}/{body['id']}" and body["href"] == response["Location"]
    assert (body["rows_read"], body["rows_imported"], body["rows_unchanged"], body["rows_failed"]) == (4, 2, 0, 2)
    assert body["kind"] == "sims" and body["brand"] == "alpha" and body["file_name"] == "sims.csv"
    assert body["created_by"] == "ida" and body["job"] is None and len(body["sha256"]) == 64
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(3, "iccid"), (5, "imsi")]
    assert "Luhn" in body["errors"][0]["message"]
    assert SimCard.objects.count() == 2
    assert AuditEvent.objects.get(action="import").actor_label.startswith("api-key:")

    again = importer.upload(UPLOADS, {"file": csv_file(sims_with_bad_rows()), "kind": "sims"}).json()
    assert (again["rows_imported"], again["rows_unchanged"], again["rows_failed"]) == (0, 2, 2)

    listed = importer.get(UPLOADS)
    assert listed["X-Total-Count"] == "2"
    assert [b["id"] for b in listed.json()] == [again["id"], body["id"]]
    assert "errors" not in listed.json()[0]
    detail = importer.get(f"{UPLOADS}/{body['id']}").json()
    assert detail["errors"] == body["errors"]
    assert importer.get(UPLOADS, kind="numbers").json() == []


def test_numbers_upload_with_options_in_the_query_string(importer):
    numbers = csv_file([["+31 6 10000001", ""], ["0610000002", ""], ["12", ""]], header=["number", "group"],
                       name="numbers.csv")
    response = importer.upload(UPLOADS, {"file": numbers}, "?kind=numbers&brand=alpha")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["rows_imported"], body["rows_failed"]) == ("numbers", 2, 1)
    assert [e["line"] for e in body["errors"]] == [4]


def test_a_background_upload_is_a_job_to_follow(brand_a, system, make_user, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    api = client_for(system, make_user, "joe", {brand_a: [*IMPORTER, "jobs.view"]})
    response = api.upload(UPLOADS, {"file": csv_file(sims_with_bad_rows()), "kind": "sims", "background": "true"})
    assert response.status_code == 202, response.content
    job = response.json()
    assert response["Location"] == f"/api/v1/jobs/{job['id']}" == job["href"]
    assert (job["kind"], job["status"], job["brand"], job["created_by"]) == ("inventory_import", "queued", "alpha",
                                                                           "joe")
    assert not SimCard.objects.exists()
    execute(job["id"])
    followed = api.get(f"/api/v1/jobs/{job['id']}")
    assert followed.status_code == 200
    done = followed.json()
    assert done["status"] == "succeeded" and done["percent"] == 100 and done["progress_done"] == 4
    assert done["result"]["imported"] == 2 and done["result"]["failed"] == 2
    assert "line 3: iccid" in done["log"]
    batch = ImportBatch.objects.get()
    assert api.get(f"{UPLOADS}/{batch.pk}").json()["job"] == job["id"]
    listed = api.get("/api/v1/jobs", status="succeeded")
    assert [j["id"] for j in listed.json()] == [job["id"]] and "log" not in listed.json()[0]


def test_jobs_need_jobs_view_and_stay_in_their_brand(brand_a, brand_b, system, make_user, tmp_path, settings,
                                                     importer):
    settings.MEDIA_ROOT = tmp_path
    job = importer.upload(UPLOADS, {"file": csv_file([sim_row(1)]), "kind": "sims", "background": "true"}).json()
    assert importer.get(f"/api/v1/jobs/{job['id']}").status_code == 403  # no jobs.view
    other = client_for(system, make_user, "bo", {brand_b: ["jobs.view"]})
    assert other.get(f"/api/v1/jobs/{job['id']}").status_code == 404
    assert other.get("/api/v1/jobs").json() == []
    assert Job.objects.count() == 1


def test_upload_refusals(importer, brand_a, brand_b, system, make_user):
    missing_kind = importer.upload(UPLOADS, {"file": csv_file([sim_row(1)])})
    assert missing_kind.status_code == 400 and missing_kind.json()["field"] == "kind"
    bad_kind = importer.upload(UPLOADS, {"file": csv_file([sim_row(1)]), "kind": "routers"})
    assert bad_kind.status_code == 400 and bad_kind.json()["field"] == "kind"
    bad_header = importer.upload(UPLOADS, {"file": csv_file([["1"]], header=["serial"]), "kind": "sims"})
    assert bad_header.status_code == 400 and bad_header.json()["field"] == "file"
    assert "unknown column 'serial'" in bad_header.json()["message"]
    no_file = importer.upload(UPLOADS, {"kind": "sims"})
    assert no_file.status_code == 400 and no_file.json()["field"] == "file"
    unknown = importer.upload(UPLOADS, {"file": csv_file([sim_row(1)]), "kind": "sims", "brand": "bravo"})
    assert unknown.status_code == 400 and unknown.json()["field"] == "brand"
    viewer = client_for(system, make_user, "vic", {brand_a: READ})
    assert viewer.upload(UPLOADS, {"file": csv_file([sim_row(1)]), "kind": "sims"}).status_code == 403
    both = client_for(system, make_user, "bea", {brand_a: IMPORTER, brand_b: IMPORTER})
    ambiguous = both.upload(UPLOADS, {"file": csv_file([sim_row(1)]), "kind": "sims"})
    assert ambiguous.status_code == 400 and ambiguous.json()["field"] == "brand"
    into_b = both.upload(UPLOADS, {"file": csv_file([sim_row(1)]), "kind": "sims", "brand": "bravo"})
    assert into_b.status_code == 201 and into_b.json()["brand"] == "bravo"
    assert importer.get(f"{UPLOADS}/{into_b.json()['id']}").status_code == 404
    assert not ImportBatch.objects.filter(brand=brand_a).exists()


def test_a_large_file_must_go_to_the_background(importer, monkeypatch):
    from telora.inventory.api import uploads

    monkeypatch.setattr(uploads, "SYNC_MAX_BYTES", 100)
    response = importer.upload(UPLOADS, {"file": csv_file([sim_row(n) for n in range(5)]), "kind": "sims"})
    assert response.status_code == 400 and response.json()["field"] == "background"
    assert not ImportBatch.objects.exists()
