"""/api/v1/usage/failed: failed records listed and inspected, re-rated after a fix, deleted with
the special right, and another brand's records out of reach."""

from decimal import Decimal

import pytest
from rating_api_helpers import ApiClient, client_for
from rating_helpers import CDRS

from telora.core import clock
from telora.core.models import AuditEvent
from telora.rating.models import FailedRecord, RatedUsage
from telora.rating.services import import_usage_file, rate_pending

D = Decimal
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]

FAILED = "/api/v1/usage/failed"
FIXER = ["rating.view", "rating.change", "rating.rerate", "rating.delete_failed"]


@pytest.fixture
def failed(nord, line_for, system):
    """The example file rated: nord-0001 again (DUPLICATE), nord-0010 (UNKNOWN_SUBSCRIBER),
    nord-0011 (PARSE_ERROR)."""
    line_for("4520000001")
    line_for("4520000002")
    usage_file = import_usage_file(nord, CDRS, format="csv", source="nord-msc", actor=system, at=clock.now())
    rate_pending(nord)
    return {r.reason: r for r in FailedRecord.objects.filter(file=usage_file)} | {"file": usage_file}


@pytest.fixture
def fixer(nord, system, make_user):
    return client_for(system, make_user, "fred", {nord: FIXER})


def test_list_and_inspect(failed, fixer):
    listed = fixer.get(FAILED)
    assert listed.status_code == 200, listed.content
    assert listed["X-Total-Count"] == "3"
    assert {(r["record_id"], r["reason"], r["status"]) for r in listed.json()} == {
        ("nord-0001", "DUPLICATE", "open"), ("nord-0010", "UNKNOWN_SUBSCRIBER", "open"),
        ("nord-0011", "PARSE_ERROR", "open")}
    assert "original" not in listed.json()[0]
    assert [r["record_id"] for r in fixer.get(FAILED, reason="UNKNOWN_SUBSCRIBER").json()] == ["nord-0010"]
    assert len(fixer.get(FAILED, file=failed["file"].pk, source="nord-msc", brand="nord").json()) == 3
    assert fixer.get(FAILED, source="other").json() == []
    assert fixer.get(FAILED, status="rerated").json() == []
    assert [r["record_id"] for r in fixer.get(FAILED, a_number="4599999999").json()] == ["nord-0010"]

    unknown = failed["UNKNOWN_SUBSCRIBER"]
    body = fixer.get(f"{FAILED}/{unknown.pk}").json()
    assert (body["href"], body["brand"], body["file"], body["file_name"], body["source"]) == (
        f"{FAILED}/{unknown.pk}", "NORD", failed["file"].pk, "cdrs.csv", "nord-msc")
    assert body["original"]["a_number"] == "4599999999" and body["original"]["duration"] == 60
    assert body["detail"]
    parse = fixer.get(f"{FAILED}/{failed['PARSE_ERROR'].pk}").json()
    assert parse["original"] == {"text": "nord-0011,voice,4520000001,,not-a-time,abc,,,DK,"}
    assert parse["line"] == 13


def test_rerate_after_the_fix_then_delete_the_rest(failed, fixer, line_for):
    line_for("4599999999")  # the missing subscriber now exists
    ids = [failed[r].pk for r in ("UNKNOWN_SUBSCRIBER", "PARSE_ERROR", "DUPLICATE")]
    response = fixer.post(f"{FAILED}/rerate", {"ids": [*ids, 999999]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["requeued"], body["skipped"], body["missing"]) == (
        1, {"PARSE_ERROR": 1, "DUPLICATE": 1}, [999999])
    assert [(f["format"], f["source"], f["read"], f["status"]) for f in body["files"]] == [
        ("records", "nord-msc", 1, "staged")]
    rate_pending(failed["file"].brand)
    assert RatedUsage.objects.get(record_id="nord-0010").charge == D("0.300000")  # 60 s at 0.30 a minute
    assert fixer.get(f"{FAILED}/{failed['UNKNOWN_SUBSCRIBER'].pk}").json()["status"] == "rerated"
    assert fixer.get(FAILED)["X-Total-Count"] == "2"
    assert AuditEvent.objects.filter(action="rerate_failed").count() == 1

    deleted = fixer.post(f"{FAILED}/delete", {"ids": [failed["PARSE_ERROR"].pk, failed["DUPLICATE"].pk,
                                                       failed["UNKNOWN_SUBSCRIBER"].pk]})
    assert deleted.status_code == 200, deleted.content
    assert deleted.json() == {"deleted": 2, "missing": [failed["UNKNOWN_SUBSCRIBER"].pk]}  # rerated is not open
    assert fixer.get(FAILED).json() == []
    assert fixer.get(FAILED, status="deleted")["X-Total-Count"] == "2"
    assert fixer.get(FAILED, status="all")["X-Total-Count"] == "3"
    assert FailedRecord.objects.filter(status="deleted").count() == 2  # kept for the audit trail


def test_ids_are_checked(failed, fixer):
    empty = fixer.post(f"{FAILED}/rerate", {"ids": []})
    assert (empty.status_code, empty.json()["field"]) == (400, "ids")
    words = fixer.post(f"{FAILED}/delete", {"ids": ["x"]})
    assert (words.status_code, words.json()["field"]) == (400, "ids[0]")


def test_rights_and_brand_isolation(failed, nord, brand_b, system, make_user):
    unknown = failed["UNKNOWN_SUBSCRIBER"]
    viewer = client_for(system, make_user, "vic", {nord: ["rating.view"]})
    assert viewer.get(FAILED)["X-Total-Count"] == "3"
    assert viewer.post(f"{FAILED}/rerate", {"ids": [unknown.pk]}).status_code == 403
    assert viewer.post(f"{FAILED}/delete", {"ids": [unknown.pk]}).status_code == 403
    rerater = client_for(system, make_user, "rob", {nord: ["rating.view", "rating.rerate"]})
    assert rerater.post(f"{FAILED}/rerate", {"ids": [unknown.pk]}).status_code == 403  # needs rating.change too
    assert rerater.post(f"{FAILED}/delete", {"ids": [unknown.pk]}).status_code == 403
    no_rating = client_for(system, make_user, "carl", {nord: ["customers.view"]})
    assert no_rating.get(FAILED).status_code == 403
    assert no_rating.get(f"{FAILED}/{unknown.pk}").status_code == 403
    assert ApiClient().get(FAILED).status_code == 401

    other = client_for(system, make_user, "bob", {brand_b: FIXER})
    assert other.get(FAILED).json() == [] and other.get(FAILED, status="all")["X-Total-Count"] == "0"
    assert other.get(f"{FAILED}/{unknown.pk}").status_code == 404
    assert other.post(f"{FAILED}/rerate", {"ids": [unknown.pk]}).json() == {
        "requeued": 0, "skipped": {}, "missing": [unknown.pk], "files": []}
    assert other.post(f"{FAILED}/delete", {"ids": [unknown.pk]}).json() == {"deleted": 0, "missing": [unknown.pk]}
    assert FailedRecord.objects.get(pk=unknown.pk).status == "open"


def test_a_call_over_two_brands_is_all_or_nothing(failed, nord, make_brand, system, make_user):
    """A user who may re-rate in NORD but only view in another brand changes nothing in either."""
    other = make_brand("other")
    theirs = FailedRecord.objects.create(brand=other, source="s", record_id="o-1", reason="NO_RATE",
                                         original={}, created_at=clock.now())
    mixed = client_for(system, make_user, "mia", {nord: FIXER, other: ["rating.view"]})
    ids = [failed["UNKNOWN_SUBSCRIBER"].pk, theirs.pk]
    refused = mixed.post(f"{FAILED}/rerate", {"ids": ids})
    assert refused.status_code == 403 and "other" in refused.json()["message"]
    assert mixed.post(f"{FAILED}/delete", {"ids": ids}).status_code == 403
    assert set(FailedRecord.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"open"}
    assert not AuditEvent.objects.filter(action__in=["rerate_failed", "delete_failed"]).exists()
