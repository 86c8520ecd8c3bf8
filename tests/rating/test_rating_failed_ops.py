"""Failed records: re-rated after the subscription was fixed (exact charges), PARSE_ERROR and
DUPLICATE skipped and reported, deleted with the special right, audited, kept per brand."""

import datetime as dt
from decimal import Decimal

import pytest
from rating_helpers import CDRS

from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.rating.engine import UsageRecord
from telora.rating.models import FailedRecord, RatedUsage, RatingBatch, UsageFile
from telora.rating.selectors import failed_record, failed_records, failure_counts
from telora.rating.services import import_usage_file, import_usage_records, rate_pending
from telora.rating.services.failed import delete_failed, record_from_original, rerate_failed

D = Decimal
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]
RERATER = ["rating.view", "rating.change", "rating.rerate"]


@pytest.fixture
def failed(nord, line_for, system):
    """cdrs.csv with only 4520000001 known: nord-0010 UNKNOWN_SUBSCRIBER, nord-0011 PARSE_ERROR and
    the second nord-0001 DUPLICATE."""
    line_for("4520000001")
    import_usage_file(nord, CDRS, format="csv", source="nord-msc", actor=system, at=clock.now())
    rate_pending(nord)
    return {f.reason: f for f in FailedRecord.objects.filter(brand=nord)}


def ids(failed):
    return [f.pk for f in failed.values()]


def test_the_failed_records_keep_reason_and_original(failed):
    assert set(failed) == {"UNKNOWN_SUBSCRIBER", "PARSE_ERROR", "DUPLICATE"}
    unknown = failed["UNKNOWN_SUBSCRIBER"]
    record = record_from_original(unknown.original)
    assert record.record_id == "nord-0010" and record.a_number == "4599999999" and record.duration == 60
    assert record.start_time == dt.datetime(2026, 10, 5, 7, 15, tzinfo=dt.UTC)
    assert record_from_original(failed["PARSE_ERROR"].original) is None  # only the text is kept


def test_rerate_after_the_number_is_given_to_a_subscription(nord, failed, line_for, make_user):
    sub = line_for("4599999999")  # holds the number from 2026-01-01, before the record
    ann = make_user("ann", {nord: RERATER})
    at = clock.now()
    result = rerate_failed(nord, ids(failed), actor=Actor(user=ann), at=at, defer=False)
    assert result["requeued"] == 1
    assert result["skipped"] == {"PARSE_ERROR": 1, "DUPLICATE": 1}
    assert result["missing"] == []
    assert (result["rated"], result["failed"]) == (1, 0)
    row = RatedUsage.objects.get(record_id="nord-0010")
    # voice 60 s to 4533123456, Monday 09:15 Copenhagen: DK PEAK 0.30 / 60 s, q = 60 -> 0.30
    assert (row.subscription_id, row.zone, row.band, row.quantity, row.charge) == (sub.pk, "DK", "PEAK", 60,
                                                                                   D("0.300000"))
    assert row.source == "nord-msc" and row.file_id == result["files"][0]
    usage_file = UsageFile.objects.get(pk=result["files"][0])
    assert (usage_file.name, usage_file.format, usage_file.source) == ("re-rate of failed records", "records",
                                                                       "nord-msc")
    statuses = dict(FailedRecord.objects.filter(brand=nord).values_list("reason", "status"))
    assert statuses == {"UNKNOWN_SUBSCRIBER": "rerated", "PARSE_ERROR": "open", "DUPLICATE": "open"}
    event = AuditEvent.objects.get(action="rerate_failed")
    assert event.actor_label == "ann" and event.brand_id == nord.pk and event.at == at
    assert event.changes["ids"] == [None, [failed["UNKNOWN_SUBSCRIBER"].pk]]
    assert AuditEvent.objects.filter(action="rerate", object_id=str(usage_file.pk)).exists()  # the intake's own
    # Rated once: re-rating the same failed record again finds nothing open.
    again = rerate_failed(nord, [failed["UNKNOWN_SUBSCRIBER"].pk], actor=Actor(user=ann), at=at)
    assert again == {"requeued": 0, "skipped": {}, "files": [], "missing": [failed["UNKNOWN_SUBSCRIBER"].pk]}
    assert AuditEvent.objects.filter(action="rerate_failed").count() == 1


def test_deferred_rerate_stages_batches_and_a_record_failing_again_gets_a_new_failed_record(nord, failed, system):
    unknown = failed["UNKNOWN_SUBSCRIBER"]
    result = rerate_failed(nord, [unknown.pk], actor=system, at=clock.now())
    assert result["requeued"] == 1 and "rated" not in result
    assert RatingBatch.objects.filter(file_id=result["files"][0], status="pending").count() == 1
    rate_pending(nord)
    assert not RatedUsage.objects.filter(record_id="nord-0010").exists()  # still nobody's number
    rows = list(FailedRecord.objects.filter(record_id="nord-0010").order_by("id").values_list("status", "reason",
                                                                                                "file_id"))
    assert rows == [("rerated", "UNKNOWN_SUBSCRIBER", unknown.file_id),
                    ("open", "UNKNOWN_SUBSCRIBER", result["files"][0])]
    new = FailedRecord.objects.get(record_id="nord-0010", status="open")
    assert new.original == unknown.original


def test_records_are_grouped_by_source(nord, line_for, system):
    start = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)  # Monday 11:00 in Copenhagen: PEAK
    for source in ("msc-a", "msc-b"):
        import_usage_records(nord, [UsageRecord(f"{source}-1", "sms", "4520000077", "4533123456", start)],
                             source=source, actor=system, at=clock.now())
    rate_pending(nord)
    open_ids = list(FailedRecord.objects.filter(brand=nord).values_list("pk", flat=True))
    assert len(open_ids) == 2
    line_for("4520000077")
    result = rerate_failed(nord, open_ids, actor=system, at=clock.now(), defer=False)
    assert len(result["files"]) == 2
    assert dict(RatedUsage.objects.values_list("source", "charge")) == {"msc-a": D("0.250000"),
                                                                        "msc-b": D("0.250000")}


def test_rerate_needs_the_right_and_stays_in_the_brand(nord, brand_b, failed, make_user):
    viewer = make_user("vic", {nord: ["rating.view", "rating.change"]})
    with pytest.raises(PermissionDeniedError, match="rating.rerate"):
        rerate_failed(nord, ids(failed), actor=Actor(user=viewer), at=clock.now())
    ann = make_user("ann", {nord: RERATER})
    other = FailedRecord.objects.create(brand=brand_b, source="b-msc", record_id="b-1", reason="UNKNOWN_SUBSCRIBER",
                                        original=dict(failed["UNKNOWN_SUBSCRIBER"].original, record_id="b-1"),
                                        created_at=clock.now())
    with pytest.raises(PermissionDeniedError):
        rerate_failed(brand_b, [other.pk], actor=Actor(user=ann), at=clock.now())
    result = rerate_failed(nord, [other.pk], actor=Actor(user=ann), at=clock.now())
    assert result == {"requeued": 0, "skipped": {}, "files": [], "missing": [other.pk]}
    other.refresh_from_db()
    assert other.status == "open"
    assert FailedRecord.objects.filter(status="open").count() == 4


def test_bad_ids_name_the_field(nord, system):
    with pytest.raises(ServiceError) as refused:
        rerate_failed(nord, [], actor=system, at=clock.now())
    assert refused.value.field == "ids"
    with pytest.raises(ServiceError) as refused:
        delete_failed(nord, ["x"], actor=system, at=clock.now())
    assert refused.value.field == "ids"
    with pytest.raises(ServiceError) as refused:
        delete_failed("NOPE", [1], actor=system, at=clock.now())
    assert refused.value.field == "brand"


def test_delete_needs_its_own_right_and_is_audited(nord, failed, make_user):
    rerater = make_user("ann", {nord: RERATER})
    with pytest.raises(PermissionDeniedError, match="rating.delete_failed"):
        delete_failed(nord, ids(failed), actor=Actor(user=rerater), at=clock.now())
    assert not FailedRecord.objects.exclude(status="open").exists()
    deleter = make_user("dee", {nord: ["rating.view", "rating.delete_failed"]})
    at = clock.now()
    chosen = [failed["PARSE_ERROR"].pk, failed["DUPLICATE"].pk]
    assert delete_failed(nord, chosen, actor=Actor(user=deleter), at=at) == 2
    assert dict(FailedRecord.objects.values_list("reason", "status")) == {
        "PARSE_ERROR": "deleted", "DUPLICATE": "deleted", "UNKNOWN_SUBSCRIBER": "open"}
    assert FailedRecord.objects.get(pk=failed["PARSE_ERROR"].pk).original["text"]  # kept for the trail
    event = AuditEvent.objects.get(action="delete_failed")
    assert (event.actor_label, event.at, event.brand_id) == ("dee", at, nord.pk)
    assert event.changes["ids"] == [None, sorted(chosen)] and event.changes["count"] == [None, 2]
    assert delete_failed(nord, chosen, actor=Actor(user=deleter), at=at) == 0  # already deleted
    assert AuditEvent.objects.filter(action="delete_failed").count() == 1
    # Deleted records leave the default list; they show when asked for.
    assert [f.reason for f in failed_records(nord)] == ["UNKNOWN_SUBSCRIBER"]
    assert failed_records(nord, status="deleted").count() == 2
    assert failed_records(nord, status=None).count() == 3


def test_delete_stays_in_the_brand(nord, brand_b, make_user):
    other = FailedRecord.objects.create(brand=brand_b, source="b", record_id="b-1", reason="NO_RATE",
                                        original={}, created_at=clock.now())
    dee = make_user("dee", {nord: ["rating.view", "rating.delete_failed"]})
    assert delete_failed(nord, [other.pk], actor=Actor(user=dee), at=clock.now()) == 0
    with pytest.raises(PermissionDeniedError):
        delete_failed(brand_b, [other.pk], actor=Actor(user=dee), at=clock.now())
    other.refresh_from_db()
    assert other.status == "open"


def test_selector_filters_and_brand_scope(nord, brand_b, failed, make_user):
    mine = make_user("ann", {nord: ["rating.view"]})
    theirs = FailedRecord.objects.create(brand=brand_b, source="b", record_id="b-1", reason="NO_RATE",
                                         original={"a_number": "441234"}, created_at=clock.now())
    assert {f.reason for f in failed_records(mine)} == {"UNKNOWN_SUBSCRIBER", "PARSE_ERROR", "DUPLICATE"}
    assert [f.record_id for f in failed_records(mine, reason="UNKNOWN_SUBSCRIBER")] == ["nord-0010"]
    assert [f.record_id for f in failed_records(mine, a_number="4599999999")] == ["nord-0010"]
    assert failed_records(mine, source="other").count() == 0
    assert failed_records(mine, file=failed["DUPLICATE"].file_id).count() == 3
    assert failed_records(mine, status="rerated").count() == 0
    assert failed_records(mine, status="nonsense").count() == 0
    assert failed_records(mine, until=clock.now() - dt.timedelta(days=1)).count() == 0
    assert failed_records(brand_b).get() == theirs
    assert failed_records(None).count() == 0
    with pytest.raises(FailedRecord.DoesNotExist):
        failed_record(mine, theirs.pk)
    assert failed_record(mine, failed["PARSE_ERROR"].pk).reason == "PARSE_ERROR"
    assert failure_counts(mine) == {"UNKNOWN_SUBSCRIBER": 1, "PARSE_ERROR": 1, "DUPLICATE": 1}


def _with_rate(plan_code, rate, day, system):
    """The reference catalogue with one more (or a changed) rate in a rate plan, from `day`."""
    from rating_helpers import CATALOG

    from telora.catalog.services.apply import apply_catalog
    from telora.catalog.yamlio import load
    from telora.rating.services.context import forget_tariffs

    data = load(CATALOG.read_text())
    plan = next(p for p in data["rate_plans"] if p["code"] == plan_code)
    plan["rates"] = [r for r in plan["rates"] if (r["service"], r["zone"], r.get("band")) !=
                     (rate["service"], rate["zone"], rate.get("band"))] + [rate]
    apply_catalog(data, actor=system, at=clock.now(), effective_from=day)
    forget_tariffs()


def test_no_rate_rerated_after_the_catalogue_gets_the_rate(nord, line_for, system):
    sub = line_for("4520000001", plan="MOB_PRE")
    records = [UsageRecord("se-1", "data", "4520000001", "", dt.datetime(2026, 10, 12, 6, 0, tzinfo=dt.UTC),
                        volume=104857600, location="SE")]
    import_usage_records(nord, records, source="pgw", actor=system, at=clock.now())
    rate_pending(nord)
    no_rate = FailedRecord.objects.get(record_id="se-1")
    assert no_rate.reason == "NO_RATE"
    _with_rate("PRE_STD", {"service": "data", "zone": "EU_ROAM", "price": "0.30", "unit": 1048576,
                           "increments": [1024, 1024]}, dt.date(2026, 9, 1), system)
    result = rerate_failed(nord, [no_rate.pk], actor=system, at=clock.now(), defer=False)
    assert (result["requeued"], result["rated"], result["failed"]) == (1, 1, 0)
    row = RatedUsage.objects.get(record_id="se-1")
    # 100 MB = 104857600 B, q = 104857600 (a multiple of 1024): 0.30 x 100 = 30.00, from a balance of 0.
    assert (row.zone, row.quantity, row.charge, row.balance_after) == ("EU_ROAM", 104857600, D("30.000000"),
                                                                       D("-30.000000"))
    assert row.subscription_id == sub.pk and row.location == "SE"
