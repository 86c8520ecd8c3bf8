"""/api/v1/migrations: an upload becomes a job; its report names every bad row; brands are apart."""

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from telora.core import clock
from telora.core.models import Job
from telora.core.services.jobs import execute
from telora.core.services.users import create_api_key
from telora.customers.models import Customer
from telora.migration.models import MigrationRun

from .conftest import sample_files

pytestmark = pytest.mark.django_db
URL = "/api/v1/migrations"
PERMS = ["migration.view", "migration.import", "jobs.view"]


class Api:
    def __init__(self, token):
        self.client, self.headers = Client(), {"Authorization": f"Bearer {token}"}

    def get(self, path):
        return self.client.get(path, headers=self.headers)

    def upload(self, files, **form):
        data = {"files": [SimpleUploadedFile(name, body, "text/csv") for name, body in files], **form}
        return self.client.post(URL, data, headers=self.headers)


def api_for(system, make_user, username, brand, perms=PERMS):
    user = make_user(username, {brand: perms})
    _key, token = create_api_key(actor=system, at=clock.now(), user=user, name="t", brands=[brand], permissions=perms)
    return Api(token)


def run_job(body):
    execute(int(body["job"].rsplit("/", 1)[1]))


def test_an_upload_is_a_job_whose_report_the_run_gives(nordlink, system, make_user):
    api = api_for(system, make_user, "mona", nordlink)
    response = api.upload(sample_files(), source="oldbss")
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == body["href"] == f"{URL}/{body['id']}"
    assert (body["status"], body["brand"], body["source_system"], body["dry_run"]) == ("queued", "nordlink",
                                                                                       "oldbss", False)
    assert Job.objects.get(pk=body["job"].rsplit("/", 1)[1]).kind == "migration_import"
    kept = MigrationRun.objects.get(pk=body["id"]).files
    assert [f["name"] for f in kept] == [name for name, _data in sample_files()]
    assert all(default_storage.exists(f["path"]) for f in kept)
    run_job(body)
    assert not any(default_storage.exists(f["path"]) for f in kept)  # personal data is not kept after the run
    done = api.get(body["href"]).json()
    assert done["status"] == "done" and done["report"]["ok"] is True
    assert {f["entity"]: f["imported"] for f in done["report"]["files"]}["subscription"] == 14
    assert Customer.objects.filter(brand=nordlink).count() == 9
    assert [r["id"] for r in api.get(URL).json()] == [body["id"]]


def test_a_dry_run_reports_bad_rows_by_file_line_and_field(nordlink, system, make_user):
    api = api_for(system, make_user, "mona", nordlink)
    files = [("customers.csv", b"source_id,kind,last_name,email\nA1,private,Holm,a@example.dk\n"
                               b"A2,robot,Holm,\nA3,private,,b@example.dk\n")]
    body = api.upload(files, dry_run="true").json()
    run_job(body)
    report = api.get(body["href"]).json()["report"]
    assert report["ok"] is False
    assert [(e["file"], e["line"], e["field"]) for e in report["errors"]] == [
        ("customers.csv", 3, "kind"), ("customers.csv", 4, "last_name")]
    assert report["files"][0]["imported"] == 1 and report["summary"].startswith("dry run:")
    assert Customer.objects.count() == 0


def test_a_user_of_one_brand_neither_sees_nor_imports_into_another(nordlink, brand_b, system, make_user):
    mona = api_for(system, make_user, "mona", nordlink)
    bob = api_for(system, make_user, "bob", brand_b)
    body = mona.upload(sample_files()).json()
    assert bob.get(body["href"]).status_code == 404
    assert bob.get(URL).json() == []
    refused = bob.upload(sample_files(), brand="nordlink")
    assert refused.status_code == 400 and refused.json()["field"] == "brand"
    assert MigrationRun.objects.count() == 1
    reader = api_for(system, make_user, "rita", nordlink, ["migration.view"])
    assert reader.upload(sample_files()).status_code == 403
    assert reader.get(body["href"]).status_code == 200
