"""Usage records outside the window around now or the value bounds fail alone (OUT_OF_RANGE),
negative and too large charges are refused, one record that breaks the rater fails alone
(RATING_ERROR), and no partition is made for a month outside the window."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from rating_api_helpers import RATER, client_for

from telora.core import clock
from telora.core.services.actors import ServiceError
from telora.rating.engine.tables import Tables
from telora.rating.models import FailedRecord, RatedUsage, RatingBatch, UsageFile, UsageKey, UsageSource
from telora.rating.services import import_usage_file, rate_pending
from telora.rating.services.collector import create_source, update_source
from telora.rating.services.storage import ensure_partitions

D = Decimal
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]
HEADER = "record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"


@pytest.fixture
def lines(line_for):
    return line_for("4520000001"), line_for("4520000002")


def recent(days=3) -> str:
    return (clock.now() - dt.timedelta(days=days)).replace(microsecond=0).isoformat()


def csv_file(tmp_path, *rows, name="bounds.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows))
    return path


def take(brand, path, system, source="nord-msc", **kwargs):
    usage_file = import_usage_file(brand, path, format="csv", source=source, actor=system, at=clock.now(), **kwargs)
    rate_pending(brand)
    usage_file.refresh_from_db()
    return usage_file


def failed(usage_file):
    return {f.record_id: (f.reason, f.detail) for f in FailedRecord.objects.filter(file=usage_file)}


def partitions(pattern):
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE %s", [pattern])
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.parametrize("split", [True, False], ids=["read-by-workers", "read-at-intake"])
def test_a_year_9999_record_and_a_huge_duration_fail_alone_and_the_rest_is_rated(nord, lines, system, tmp_path,
                                                                                split):
    path = csv_file(
        tmp_path,
        f"ok-1,voice,4520000001,4533123456,{recent()},125,,,DK,",
        "far-1,voice,4520000001,4533123456,9999-12-31T12:00:00+00:00,60,,,DK,",
        f"big-1,voice,4520000001,4533123456,{recent()},1000000000000000000,,,DK,",  # 10^18: no bigint
        f"big-2,voice,4520000002,4533123456,{recent()},100000000000000000,,,DK,",  # 10^17: over the bound
        "old-1,sms,4520000002,4533123456,0001-01-01T00:00:00+00:00,,,1,DK,",
        "edge-1,sms,4520000002,4533123456,9999-12-31T23:00:00-05:00,,,1,DK,",  # no UTC moment at all
        f"ok-2,sms,4520000002,4533123456,{recent()},,,1,DK,",
    )
    usage_file = take(nord, path, system, split=split)
    assert usage_file.status == "rated"
    assert sorted(RatedUsage.objects.filter(file_id=usage_file.pk).values_list("record_id", flat=True)) == [
        "ok-1", "ok-2"]
    reasons = failed(usage_file)
    assert {k: v[0] for k, v in reasons.items()} == {
        "far-1": "OUT_OF_RANGE", "big-1": "PARSE_ERROR", "big-2": "OUT_OF_RANGE", "old-1": "OUT_OF_RANGE",
        "edge-1": "PARSE_ERROR"}
    assert reasons["far-1"][1].startswith("line 3: start_time: 9999-12-31T12:00:00+00:00 is outside the usage window")
    assert "duration: 1000000000000000000 is too large" in reasons["big-1"][1]
    assert reasons["big-2"][1].startswith("line 5: duration: 100000000000000000 is above the most")
    assert "start_time: '9999-12-31T23:00:00-05:00' is out of range" in reasons["edge-1"][1]
    assert (usage_file.read, usage_file.rated, usage_file.failed) == (7, 2, 5)
    assert not RatingBatch.objects.filter(file=usage_file, status="pending").exists()
    assert not partitions("rating_ratedusage_y9999%") and not partitions("rating_ratedusage_y0001%")
    assert set(UsageKey.objects.values_list("record_id", flat=True)) == {"ok-1", "ok-2"}


def test_negative_and_too_large_charges_in_a_file_go_to_the_failed_records(nord, lines, system, tmp_path):
    source = create_source(nord, actor=system, at=clock.now(), code="content-partner", format="csv",
                           inbox="/tmp/cp/inbox")
    update_source(source, actor=system, at=clock.now(), max_charge="50")
    path = csv_file(
        tmp_path,
        f"c-1,content,4520000001,1999,{recent()},,,1,DK,-600000.00",
        f"c-2,content,4520000001,1999,{recent()},,,1,DK,50.01",
        f"c-3,content,4520000001,1999,{recent()},,,1,DK,49.99",
    )
    usage_file = take(nord, path, system, source="content-partner")
    assert dict(RatedUsage.objects.filter(file_id=usage_file.pk).values_list("record_id", "charge")) == {
        "c-3": D("49.990000")}
    reasons = failed(usage_file)
    assert reasons["c-1"][0] == reasons["c-2"][0] == "OUT_OF_RANGE"
    assert reasons["c-1"][1].startswith("line 2: charge: -600000.00 is negative")
    assert reasons["c-2"][1] == "line 3: charge: 50.01 is above the most a record of content-partner may carry (50)"


def test_the_default_largest_charge_holds_for_a_source_without_its_own(nord, lines, system, tmp_path, settings):
    settings.TELORA_USAGE_MAX_CHARGE = "100"
    path = csv_file(tmp_path, f"c-1,content,4520000001,1999,{recent()},,,1,DK,100.01",
                    f"c-2,content,4520000001,1999,{recent()},,,1,DK,100")
    usage_file = take(nord, path, system, source="anyone")
    assert failed(usage_file)["c-1"][0] == "OUT_OF_RANGE"
    assert RatedUsage.objects.get(file_id=usage_file.pk).record_id == "c-2"


def test_a_negative_charge_from_a_key_with_rating_rights_only_is_refused(nord, lines, system, make_user):
    api = client_for(system, make_user, "mediation", {nord: RATER})
    response = api.post("/api/v1/usage", {"brand": "NORD", "source": "content", "records": [
        {"record_id": "neg-1", "service": "content", "a_number": "4520000001", "b_number": "1999",
         "start_time": recent(), "quantity": 1, "charge": D("-600000.00")}]})
    assert response.status_code == 400, response.content
    body = response.json()
    assert [(e["path"], e["message"]) for e in body["errors"]] == [
        ("records[0].charge", "-600000.00 is negative (credits are not taken from usage records, book them as "
                              "adjustments)")]
    assert not UsageFile.objects.exists() and not RatedUsage.objects.exists()


def test_a_json_record_in_year_9999_is_refused_naming_its_field(nord, lines, system, make_user):
    api = client_for(system, make_user, "mediation", {nord: RATER})
    response = api.post("/api/v1/usage", {"brand": "NORD", "source": "s", "records": [
        {"record_id": "ok", "service": "sms", "a_number": "4520000001", "b_number": "1999", "start_time": recent()},
        {"record_id": "far", "service": "sms", "a_number": "4520000001", "b_number": "1999",
         "start_time": "9999-12-31T00:00:00+00:00"}]})
    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == ["records[1].start_time"]


def test_an_exception_on_one_record_fails_that_record_alone(nord, lines, system, tmp_path, monkeypatch):
    original = Tables.destination_rate  # rates are cached per plan by the B-number's first four digits: r-2's
                                        # differ from the others', so its lookup runs whatever the records' order

    def broken(self, plan, service, band, b_number):
        if b_number == "4566666666":
            raise ZeroDivisionError("injected")
        return original(self, plan, service, band, b_number)

    monkeypatch.setattr(Tables, "destination_rate", broken)
    path = csv_file(
        tmp_path,
        f"r-1,voice,4520000001,4533123456,{recent()},125,,,DK,",
        f"r-2,voice,4520000001,4566666666,{recent(2)},60,,,DK,",
        f"r-3,voice,4520000002,4533123457,{recent(1)},61,,,DK,",
    )
    usage_file = take(nord, path, system)
    assert usage_file.status == "rated"
    assert sorted(RatedUsage.objects.filter(file_id=usage_file.pk).values_list("record_id", flat=True)) == [
        "r-1", "r-3"]
    assert failed(usage_file) == {"r-2": ("RATING_ERROR", "rating this record failed: ZeroDivisionError: injected")}
    assert not UsageKey.objects.filter(record_id="r-2").exists()  # its key is given back: it may be rated again
    assert not RatingBatch.objects.filter(status="pending").exists()


def test_no_partition_is_made_for_a_month_outside_the_window(db):
    with pytest.raises(ValueError, match="outside the usage window"):
        ensure_partitions([dt.datetime(9999, 12, 31, tzinfo=dt.UTC)])
    with pytest.raises(ValueError, match="outside the usage window"):
        ensure_partitions([clock.now(), dt.datetime(2000, 1, 1, tzinfo=dt.UTC)])
    assert not partitions("rating_ratedusage_y9999%") and not partitions("rating_ratedusage_y2000%")
    ensure_partitions([clock.now()])
    assert partitions(f"rating_ratedusage_y{clock.now():%Y}m{clock.now():%m}")


def test_an_unreadable_line_with_a_rated_id_leaves_that_key_alone(nord, lines, system, tmp_path):
    take(nord, csv_file(tmp_path, f"k-1,sms,4520000001,4533123456,{recent()},,,1,DK,", name="a.csv"), system)
    again = take(nord, csv_file(tmp_path, "k-1,sms,4520000001,4533123456,not-a-time,,,1,DK,",
                                "k-1,sms,4520000001,4533123456,9999-01-01T00:00:00+00:00,,,1,DK,", name="b.csv"),
                 system)
    assert {f.reason for f in FailedRecord.objects.filter(file=again)} == {"PARSE_ERROR", "OUT_OF_RANGE"}
    assert UsageKey.objects.filter(record_id="k-1").exists()  # k-1 stays charged once


def test_a_source_s_largest_charge_is_an_amount_not_below_zero(nord, system):
    with pytest.raises(ServiceError, match="max_charge: an amount from 0") as refused:
        create_source(nord, actor=system, at=clock.now(), code="cp", format="csv", inbox="/tmp/cp/inbox",
                      max_charge="-1")
    assert refused.value.field == "max_charge"
    source = create_source(nord, actor=system, at=clock.now(), code="cp", format="csv", inbox="/tmp/cp/inbox",
                           max_charge="25.5")
    assert UsageSource.objects.get(pk=source.pk).max_charge == D("25.5")
    update_source(source, actor=system, at=clock.now(), max_charge="")
    assert UsageSource.objects.get(pk=source.pk).max_charge is None
