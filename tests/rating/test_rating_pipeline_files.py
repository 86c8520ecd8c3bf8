"""The pipeline on the shared examples: files recorded once, staged per partition, rated in
batches into rated usage, failed records and counts (needs the database)."""

from decimal import Decimal

import pytest
from rating_helpers import ASTERISK, CDRS

from telora.core import clock
from telora.core.services.actors import ServiceError
from telora.rating.models import FailedRecord, RatedUsage, RatingBatch, UsageFile, UsageKey
from telora.rating.services import import_usage_file, rate_pending
from telora.rating.services.staging import unpack_all

D = Decimal
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]


def take(brand, path, system, fmt="csv", source="nord-msc", **kwargs):
    usage_file = import_usage_file(brand, path, format=fmt, source=source, actor=system, at=clock.now(), **kwargs)
    rate_pending(brand)
    usage_file.refresh_from_db()
    return usage_file


def rated(usage_file):
    return {r.record_id: (r.zone, r.band, r.quantity, r.charge)
            for r in RatedUsage.objects.filter(file_id=usage_file.pk)}


@pytest.fixture
def lines(line_for):
    return line_for("4520000001"), line_for("4520000002")


def test_cdrs_csv_imports_with_the_outcomes_of_the_readme(nord, lines, system):
    usage_file = take(nord, CDRS, system)
    assert (usage_file.read, usage_file.rated, usage_file.failed, usage_file.duplicate) == (12, 9, 2, 1)
    assert usage_file.status == "rated"
    sub = lines[0]
    assert rated(usage_file) == {
        "nord-0001": ("DK", "PEAK", 125, D("0.625000")),
        "nord-0002": ("DK_MOBILE", "PEAK", 61, D("0.455833")),
        "nord-0003": ("EU", "OFFPEAK", 48, D("1.192000")),
        "nord-0004": ("EU", "OFFPEAK", 0, D("0.000000")),
        "nord-0005": ("DK", "PEAK", 1, D("0.250000")),
        "nord-0006": ("HOME", "PEAK", 52428800, D("5.000000")),
        "nord-0007": ("EU_ROAM", "PEAK", 104857600, D("10.000000")),
        "nord-0008": ("DK_PREMIUM", "PEAK", 60, D("4.950000")),
        "nord-0009": ("", "PEAK", 1, D("19.000000")),
    }
    assert set(RatedUsage.objects.filter(file_id=usage_file.pk).values_list("subscription_id", flat=True)) == {sub.pk}
    assert sorted(FailedRecord.objects.filter(file=usage_file).values_list("record_id", "reason")) == [
        ("nord-0001", "DUPLICATE"), ("nord-0010", "UNKNOWN_SUBSCRIBER"), ("nord-0011", "PARSE_ERROR")]
    parse = FailedRecord.objects.get(file=usage_file, reason="PARSE_ERROR")
    assert parse.line and parse.original["text"] and parse.detail
    unknown = FailedRecord.objects.get(file=usage_file, reason="UNKNOWN_SUBSCRIBER")
    assert unknown.original["a_number"] == "4599999999"
    assert UsageKey.objects.filter(brand=nord, source="nord-msc").count() == 9
    assert not RatingBatch.objects.exclude(payload=b"").exists()
    assert not RatingBatch.objects.filter(status="pending").exists()


def test_asterisk_master_csv_in_the_brand_timezone(nord, lines, system):
    usage_file = take(nord, ASTERISK, system, fmt="asterisk", source="pbx")
    assert (usage_file.read, usage_file.rated, usage_file.failed, usage_file.duplicate) == (4, 4, 0, 0)
    assert rated(usage_file) == {
        "1759475700.1": ("EU", "OFFPEAK", 126, D("3.129000")),
        "1759478400.3": ("DK", "OFFPEAK", 0, D("0.000000")),
        "1759595400.5": ("DK_MOBILE", "OFFPEAK", 900, D("5.350000")),
        "1759597200.7": ("DK", "OFFPEAK", 0, D("0.000000")),
    }
    by_sub = dict(RatedUsage.objects.filter(file_id=usage_file.pk).values_list("record_id", "subscription_id"))
    assert by_sub["1759595400.5"] == lines[1].pk and by_sub["1759475700.1"] == lines[0].pk


def test_the_same_file_twice_is_refused(nord, lines, system):
    take(nord, CDRS, system)
    with pytest.raises(ServiceError, match="already imported"):
        import_usage_file(nord, CDRS, format="csv", source="nord-msc", actor=system, at=clock.now())
    assert UsageFile.objects.count() == 1
    # the same content from another source is another file
    other = take(nord, CDRS, system, source="other-msc")
    assert other.rated == 9


def test_the_same_record_in_two_files_is_charged_once(nord, lines, system):
    text = CDRS.read_bytes()
    first = take(nord, text, system, name="a.csv")
    second = take(nord, text + b"\n", system, name="b.csv")  # other bytes, the same records
    assert first.rated == 9
    assert (second.rated, second.duplicate) == (0, 10)
    assert RatedUsage.objects.filter(record_id="nord-0001").count() == 1
    assert RatedUsage.objects.count() == 9


def test_rated_usage_lands_in_monthly_partitions(nord, lines, system):
    from django.db import connection

    take(nord, CDRS, system)
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text, count(*) FROM rating_ratedusage GROUP BY 1")
        assert dict(cursor.fetchall()) == {"rating_ratedusage_y2026m10": 9}


def test_bad_format_and_missing_file_are_clear_errors(nord, system, tmp_path):
    with pytest.raises(ServiceError, match="format"):
        import_usage_file(nord, CDRS, format="xml", source="s", actor=system, at=clock.now())
    with pytest.raises(ServiceError, match="does not exist"):
        import_usage_file(nord, tmp_path / "nope.csv", format="csv", source="s", actor=system, at=clock.now())


def test_record_ids_with_odd_characters_are_stored_as_they_are(nord, lines, system):
    header = b"record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"
    body = b'"a\\b\tc",sms,4520000001,4533123456,2026-10-05T09:15:00+02:00,,,1,,\n'
    usage_file = take(nord, header + body, system, name="odd.csv")
    assert usage_file.rated == 1
    assert RatedUsage.objects.get().record_id == "a\\b\tc"
    assert UsageKey.objects.get().record_id == "a\\b\tc"


def test_one_job_per_batch_locked_by_its_partition(nord, lines, system, django_capture_on_commit_callbacks):
    from procrastinate.contrib.django.models import ProcrastinateJob

    from telora.rating.services import partition_of

    with django_capture_on_commit_callbacks(execute=True):
        usage_file = import_usage_file(nord, CDRS, format="csv", source="nord-msc", actor=system, at=clock.now())
    batches = {b.pk: b.partition for b in RatingBatch.objects.filter(file=usage_file)}
    assert set(batches.values()) == {partition_of("4520000001"), partition_of("4599999999")}
    jobs = ProcrastinateJob.objects.filter(task_name="telora.rating.rate_batch")
    assert sorted((job.args["batch_id"], job.lock) for job in jobs) == sorted(
        (pk, f"rating:{nord.pk}:{partition}") for pk, partition in batches.items())
    # every line waits as it was written, the unreadable one too: the worker reads them
    staged = [unpack_all(b.payload) for b in RatingBatch.objects.filter(file=usage_file)]
    assert sum(len(records) for records, _ in staged) == 11
    assert [(f.line, f.record_id) for _, failures in staged for f in failures] == [(13, "nord-0011")]


def test_pending_batches_without_a_job_are_queued_again(nord, lines, system):
    import datetime as dt

    from procrastinate.contrib.django.models import ProcrastinateJob

    from telora.rating.jobs import requeue_orphans

    usage_file = import_usage_file(nord, CDRS, format="csv", source="nord-msc", actor=system, at=clock.now(),
                                   defer=False)  # staged, no job: as if its job were lost
    batches = set(RatingBatch.objects.filter(file=usage_file).values_list("id", flat=True))
    assert requeue_orphans() == 0  # too young: its job may still be on the way
    RatingBatch.objects.filter(file=usage_file).update(created_at=clock.now() - dt.timedelta(minutes=5))
    assert requeue_orphans() == len(batches)
    jobs = ProcrastinateJob.objects.filter(task_name="telora.rating.rate_batch", status="todo")
    assert {job.args["batch_id"] for job in jobs} == batches
    assert requeue_orphans() == 0  # each has its job now
    rate_pending(nord)
    assert requeue_orphans() == 0 and UsageFile.objects.get(pk=usage_file.pk).status == "rated"
