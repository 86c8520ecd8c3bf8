"""/api/v1/usage: usage files uploaded and followed, JSON batches checked by the canonical rules,
rights and brand isolation."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rating_api_helpers import RATER, ApiClient, client_for
from rating_helpers import CDRS

from telora.api.tmf import ExactJSONRenderer
from telora.core.models import AuditEvent
from telora.rating.models import FailedRecord, RatedUsage, RatingBatch, UsageFile
from telora.rating.services import rate_pending

D = Decimal
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]

USAGE = "/api/v1/usage"
FILES = f"{USAGE}/files"


@pytest.fixture
def lines(line_for):
    return line_for("4520000001"), line_for("4520000002")


@pytest.fixture
def rater(nord, system, make_user):
    return client_for(system, make_user, "rita", {nord: RATER})


def cdrs(name="cdrs.csv"):
    return SimpleUploadedFile(name, CDRS.read_bytes(), "text/csv")


def upload(api, **fields):
    data = {"file": cdrs(), "format": "csv", "source": "nord-msc", "brand": "NORD"}
    data.update(fields)
    return api.upload(FILES, {k: v for k, v in data.items() if v is not None})


def test_the_example_file_uploaded_and_rated_gives_the_readme_counts(nord, lines, rater):
    response = upload(rater)
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == f"{FILES}/{body['id']}" == body["href"]
    assert {k: body[k] for k in ("brand", "name", "source", "format", "status", "size", "read", "rated", "failed",
                                 "duplicate", "ignored")} == {
        "brand": "NORD", "name": "cdrs.csv", "source": "nord-msc", "format": "csv", "status": "staged",
        "size": len(CDRS.read_bytes()), "read": 12, "rated": 0, "failed": 1, "duplicate": 0,
        "ignored": 0}  # an upload is read whole at intake: its unreadable line is counted at once
    assert body["received_at"] and body["rated_at"] is None
    staged = rater.get(f"{FILES}/{body['id']}").json()
    pending = RatingBatch.objects.filter(file_id=body["id"]).count()
    assert staged["batches"] == {"pending": pending, "done": 0, "records": 11, "records_done": 0}
    assert staged["progress"] == 0
    assert AuditEvent.objects.get(action="import").actor_label.startswith("api-key:")

    rate_pending(nord)
    done = rater.get(f"{FILES}/{body['id']}").json()
    assert (done["status"], done["read"], done["rated"], done["failed"], done["duplicate"]) == ("rated", 12, 9, 2, 1)
    assert done["batches"] == {"pending": 0, "done": pending, "records": 11, "records_done": 11}
    assert done["progress"] == 100
    assert RatedUsage.objects.get(record_id="nord-0001").charge == D("0.625000")

    listed = rater.get(FILES)
    assert listed["X-Total-Count"] == "1" and [f["id"] for f in listed.json()] == [body["id"]]
    assert "batches" not in listed.json()[0]
    assert rater.get(FILES, status="staged").json() == []
    assert len(rater.get(FILES, source="nord-msc", brand="nord").json()) == 1
    assert rater.get(FILES, source="other").json() == []


def test_the_same_file_again_is_a_conflict_naming_it(nord, lines, rater):
    assert upload(rater).status_code == 202
    again = upload(rater)
    assert again.status_code == 409
    assert again.json() == {"@type": "Error", "code": "conflict", "reason": "Conflict", "status": "409",
                            "message": "file: cdrs.csv was already imported from nord-msc (same content)"}
    assert UsageFile.objects.count() == 1
    assert upload(rater, source="other-msc").status_code == 202  # another source may send it


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"format": "xml"}, "format", "unknown usage format 'xml'"),
    ({"format": None}, "format", "give one of"),
    ({"source": None}, "source", "give the source"),
    ({"brand": "NOPE"}, "brand", "unknown brand 'NOPE'"),
])
def test_upload_refusals_name_the_field(nord, rater, fields, field, words):
    response = upload(rater, **fields)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["field"] == field and words in body["message"]
    assert not UsageFile.objects.exists()


def test_uploading_needs_rating_change_and_reading_rating_view(nord, brand_b, lines, rater, system, make_user):
    viewer = client_for(system, make_user, "vic", {nord: ["rating.view"]})
    assert upload(viewer).status_code == 403
    no_rating = client_for(system, make_user, "carl", {nord: ["customers.view"]})
    assert no_rating.get(FILES).status_code == 403
    assert no_rating.post(USAGE, {"brand": "NORD", "source": "x", "records": []}).status_code == 403
    assert ApiClient().get(FILES).status_code == 401
    body = upload(rater).json()
    assert viewer.get(f"{FILES}/{body['id']}").status_code == 200

    # brand B's people neither see NORD's files nor send into NORD
    other = client_for(system, make_user, "bob", {brand_b: RATER})
    assert other.get(FILES).json() == [] and other.get(FILES)["X-Total-Count"] == "0"
    assert other.get(f"{FILES}/{body['id']}").status_code == 404
    refused = upload(other, file=SimpleUploadedFile("x.csv", b"record_id\n"))
    assert (refused.status_code, refused.json()["field"]) == (400, "brand")
    mine = upload(other, brand="bravo", source="b-msc")
    assert mine.status_code == 202 and mine.json()["brand"] == "bravo"
    assert [f["brand"] for f in rater.get(FILES).json()] == ["NORD"]


def record(n, **fields):
    values = {"record_id": f"api-{n}", "service": "sms", "a_number": "+45 20 00 00 01", "b_number": "4533123456",
              "start_time": "2026-10-05T09:15:00+02:00", "quantity": 1}
    values.update(fields)
    return values


def test_a_json_batch_is_rated_like_a_file_with_exact_charges(nord, lines, rater, settings):
    settings.TELORA_USAGE_MAX_CHARGE = "100000000000"  # the large charge below is the point of the test
    batch = {"brand": "NORD", "source": "api-x", "records": [
        record(1),
        record(2, service="voice", b_number="4533123456", duration=125, quantity=None),
        # a content charge with more digits than a float holds: 12345678901.123455 through float
        record(3, service="content", b_number="1999", charge=D("12345678901.123456")),
        record(4, service="content", b_number="1999", charge="1.50"),
    ]}
    text = ExactJSONRenderer().render(None, batch, response_status=200)
    assert '"charge": 12345678901.123456}' in text  # a JSON number, not a string
    response = rater.post(USAGE, text)
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["format"], body["name"], body["source"], body["read"], body["status"]) == (
        "records", "api batch", "api-x", 4, "staged")
    rate_pending(nord)
    charges = dict(RatedUsage.objects.values_list("record_id", "charge"))
    assert charges["api-3"] == D("12345678901.123456")
    assert charges["api-4"] == D("1.500000")
    assert charges["api-2"] == D("0.625000")  # 125 s at DK peak, as nord-0001
    assert RatedUsage.objects.get(record_id="api-1").a_number == "4520000001"
    followed = rater.get(f"{FILES}/{body['id']}").json()
    assert (followed["status"], followed["rated"], followed["failed"]) == ("rated", 4, 0)

    # the brand may be left out by a caller who may import into one brand only
    alone = rater.post(USAGE, {"source": "api-y", "records": [record(9)]})
    assert (alone.status_code, alone.json()["brand"]) == (202, "NORD")

    # the same records again: each id of the source is charged once
    again = rater.post(USAGE, text)
    assert again.status_code == 202
    rate_pending(nord)
    assert rater.get(f"{FILES}/{again.json()['id']}").json()["duplicate"] == 4
    assert RatedUsage.objects.filter(source="api-x").count() == 4


def test_a_bad_record_refuses_the_batch_listing_every_problem(nord, lines, rater):
    response = rater.post(USAGE, {"brand": "NORD", "source": "api-x", "records": [
        record(1),
        record(2, start_time="2026-10-05 09:15:00"),
        record(3, service="fax", duration="-5", location="DNK"),
        record(4, charge="1,50", service="content"),
    ]})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["field"] == "records[1].start_time"
    assert [e["field"] for e in body["errors"]] == [
        "records[1].start_time", "records[2].service", "records[2].duration", "records[2].location",
        "records[3].charge"]
    assert body["errors"][0]["message"] == "'2026-10-05 09:15:00' has no offset (write e.g. 2026-10-05T09:15:00+02:00)"
    assert body["errors"][2]["message"] == "'-5' is not a whole number"
    assert not UsageFile.objects.exists() and not RatingBatch.objects.exists() and not FailedRecord.objects.exists()


def test_batch_shape_errors(nord, rater):
    unknown = rater.post(USAGE, {"brand": "NORD", "source": "api-x", "records": [record(1, durration=5)]})
    assert (unknown.status_code, unknown.json()["field"]) == (400, "records[0].durration")
    flag = rater.post(USAGE, {"brand": "NORD", "source": "api-x", "records": [record(1, quantity=True)]})
    assert (flag.status_code, flag.json()["field"]) == (400, "records[0].quantity")
    empty = rater.post(USAGE, {"brand": "NORD", "source": "api-x", "records": []})
    assert (empty.status_code, empty.json()["field"]) == (400, "records")
    no_source = rater.post(USAGE, {"brand": "NORD", "source": " ", "records": [record(1)]})
    assert (no_source.status_code, no_source.json()["field"]) == (400, "source")
    assert rater.post(USAGE, "{not json").status_code == 400
    assert not UsageFile.objects.exists()


def test_a_batch_is_limited_to_ten_thousand_records(nord, rater):
    response = rater.post(USAGE, {"brand": "NORD", "source": "api-x",
                                  "records": [record(n) for n in range(10_001)]})
    assert response.status_code == 400
    assert response.json()["field"] == "records"
    assert "at most 10000 records in one batch (10001 sent)" in response.json()["message"]


def test_the_openapi_documents_list_the_rating_operations(db):
    from django.test import Client

    anonymous = Client()
    document = anonymous.get("/api/openapi.json").json()
    paths = document["paths"]
    assert set(paths[USAGE]) == {"post"} and set(paths[FILES]) == {"get", "post"}
    for path in (f"{FILES}/{{file_id}}", f"{USAGE}/failed", f"{USAGE}/failed/{{record_id}}", f"{USAGE}/failed/rerate",
                 f"{USAGE}/failed/delete"):
        assert path in paths
    body = paths[USAGE]["post"]["requestBody"]["content"]["application/json"]["schema"]
    batch = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert set(batch["properties"]) == {"brand", "source", "records"}
    record_schema = document["components"]["schemas"]["RecordIn"]["properties"]["charge"]
    assert record_schema["type"] == ["string", "number", "null"]
    assert "multipart/form-data" in paths[FILES]["post"]["requestBody"]["content"]
    usage = anonymous.get("/tmf-api/usageManagement/v4/openapi.json").json()["paths"]
    assert set(usage) == {"/tmf-api/usageManagement/v4/usage", "/tmf-api/usageManagement/v4/usage/{id}",
                          "/tmf-api/usageManagement/v4/hub", "/tmf-api/usageManagement/v4/hub/{id}"}  # TMF630
    balance = anonymous.get("/tmf-api/prepayBalanceManagement/v4/openapi.json").json()["paths"]
    base = "/tmf-api/prepayBalanceManagement/v4"
    assert set(balance) == {f"{base}/{p}" for p in ("bucket", "bucket/{id}", "topupBalance", "topupBalance/{id}",
                                                    "adjustBalance", "adjustBalance/{id}", "hub", "hub/{id}")}
    assert set(balance[f"{base}/topupBalance"]) == {"get", "post"}


def test_a_body_over_the_upload_limit_is_a_413(nord, rater, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = rater.post(USAGE, {"brand": "NORD", "source": "api-x", "records": [record(n) for n in range(20)]})
    assert response.status_code == 413
    assert response.json()["code"] == "too_large" and "over 1000 bytes" in response.json()["message"]
    assert not UsageFile.objects.exists()
