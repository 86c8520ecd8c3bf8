"""Pre-rated (OCS) sources end to end, through the database: a file of a pre-rated source is
stored with the charges it carries (no tariff, no bundle), each record id once, bad rows in the
failed records with a reason naming the field; a prepaid line's balance follows the OCS's
balance_after with "ocs" ledger entries and low/zero events; re-rating leaves the OCS's rows as
they are and re-checks a failed one; the consumption screen and the JSON API carry them."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse
from rating_api_helpers import RATER, client_for

from gui_helpers import login
from telora.core import clock
from telora.rating.models import (
    BalanceEvent,
    BundleCounter,
    FailedRecord,
    PrepaidBalance,
    PrepaidBalanceEntry,
    RatedUsage,
)
from telora.rating.services import import_usage_file, rate_pending
from telora.rating.services.balances import top_up
from telora.rating.services.failed import rerate_failed
from telora.rating.services.rerate import rerate_subscription
from telora.rating.services.sources import create_source

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]

HEADER = b"record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge,balance_after\n"
PLAIN = b"record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"
NOV = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
DEC = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


@pytest.fixture
def ocs(nord, system, tmp_path):
    return create_source(nord, actor=system, at=clock.now(), code="ocs", format="csv", inbox=str(tmp_path / "in"),
                         pre_rated=True)


def take(brand, data, system, name, source="ocs"):
    usage_file = import_usage_file(brand, data, format="csv", source=source, actor=system, at=clock.now(), name=name)
    rate_pending(brand)
    usage_file.refresh_from_db()
    return usage_file


def test_postpaid_records_keep_the_ocs_charge_without_tariff_or_bundles(nord, line_for, system, ocs):
    sub = line_for("4520000001", plan="MOB_POST_10GB")  # holds DK_TALK_500 and DATA_10GB
    usage_file = take(nord, HEADER
                      + b"o-1,voice,4520000001,4533123456,2026-11-05T09:15:00+01:00,125,,,,1.234567,\n"
                      + b"o-2,data,4520000001,,2026-11-05T10:00:00+01:00,,1048576,,,0.50,\n"
                      + b"o-3,sms,+4520000001,+46812345678,2026-11-05T11:00:00+01:00,,,1,,0,\n", system, "1.csv")
    assert (usage_file.rated, usage_file.failed, usage_file.duplicate) == (3, 0, 0)
    rows = {r.record_id: r for r in RatedUsage.objects.filter(subscription_id=sub.pk)}
    assert {k: r.charge for k, r in rows.items()} == {"o-1": D("1.234567"), "o-2": D("0.5"), "o-3": D("0")}
    # the zone rating would use (for grouping on bills), no rate, no bundle, usage kept
    assert (rows["o-1"].zone, rows["o-2"].zone, rows["o-3"].zone) == ("DK", "HOME", "EU")
    assert {r.rate_key for r in rows.values()} == {""}
    assert all(r.bundle_use == [] and r.balance_after is None for r in rows.values())
    assert (rows["o-1"].usage, rows["o-1"].quantity, rows["o-1"].record_charge) == (125, 125, D("1.234567"))
    assert not BundleCounter.objects.filter(subscription=sub).exists()

    # the same record ids again (another charge, another file): duplicates, the first charge stays
    again = take(nord, HEADER
                 + b"o-1,voice,4520000001,4533123456,2026-11-05T09:15:00+01:00,125,,,,9.99,\n"
                 + b"o-4,voice,4520000001,4533123456,2026-11-06T09:15:00+01:00,60,,,,0.30,\n", system, "2.csv")
    assert (again.rated, again.failed, again.duplicate) == (1, 0, 1)
    assert RatedUsage.objects.get(record_id="o-1").charge == D("1.234567")

    # a source that is not pre-rated rates the same kind of record by the tariff (drawing the bundle)
    take(nord, PLAIN + b"m-1,voice,4520000001,4533123456,2026-11-07T09:15:00+01:00,125,,,DK,\n", system, "m.csv",
         source="nord-msc")
    rated = RatedUsage.objects.get(record_id="m-1")
    assert rated.charge == 0 and rated.bundle_use and rated.rate_key
    assert BundleCounter.objects.get(subscription=sub, code="DK_TALK_500").used == 125

    # re-rating the month reverses and rates again the tariff's rows, not the OCS's
    result = rerate_subscription(sub, since=NOV, until=DEC, actor=system, at=clock.now(), defer=False)
    assert result["reversed"] == 1
    assert sorted(RatedUsage.objects.filter(source="ocs").values_list("record_id", "charge")) == [
        ("o-1", D("1.234567")), ("o-2", D("0.5")), ("o-3", D("0")), ("o-4", D("0.3"))]
    assert RatedUsage.objects.filter(record_id="m-1").count() == 1


def test_bad_rows_go_to_the_failed_records_naming_the_field(nord, line_for, system, ocs):
    line_for("4520000001")
    usage_file = take(nord, HEADER
                      + b"b-1,voice,4520000001,4533123456,2026-11-05T09:15:00+01:00,60,,,,,\n"
                      + b"b-2,voice,4520000001,4533123456,2026-11-05T09:16:00+01:00,60,,,,0.1234567,\n"
                      + b"b-3,voice,4520000001,4533123456,2026-11-05T09:17:00+01:00,60,,,,-1.00,\n"
                      + b"b-4,voice,4599999999,4533123456,2026-11-05T09:18:00+01:00,60,,,,1.00,\n"
                      + b"b-5,voice,4520000001,4533123456,2026-11-05T09:19:00+01:00,60,,,,1.00,abc\n"
                      + b"b-6,voice,4520000001,4533123456,2026-11-05T09:20:00+01:00,60,,,,1.00,1e13\n"
                      + b"ok-1,voice,4520000001,4533123456,2026-11-05T09:21:00+01:00,60,,,,1.00,\n", system, "bad.csv")
    assert (usage_file.rated, usage_file.failed) == (1, 6)
    failed = {f.record_id: (f.reason, f.detail) for f in FailedRecord.objects.all()}
    assert failed["b-1"][0] == "NO_CHARGE" and failed["b-1"][1].startswith("charge: required")
    assert failed["b-2"] == ("OUT_OF_RANGE", "charge: 0.1234567 has more than 6 decimals")
    assert failed["b-3"][0] == "OUT_OF_RANGE" and "charge: -1.00 is negative" in failed["b-3"][1]
    assert failed["b-4"][0] == "UNKNOWN_SUBSCRIBER"
    assert failed["b-5"][0] == "PARSE_ERROR" and "balance_after: 'abc' is not an amount" in failed["b-5"][1]
    assert failed["b-6"][0] == "OUT_OF_RANGE" and failed["b-6"][1].startswith("balance_after: 1E+13 is beyond")

    # taken in again, a pre-rated failed record is checked again (not priced by the tariff)
    ids = list(FailedRecord.objects.filter(record_id__in=["b-1", "b-2"]).values_list("pk", flat=True))
    result = rerate_failed(nord, ids, actor=system, at=clock.now(), defer=False)
    assert (result["requeued"], result["rated"], result["failed"]) == (2, 0, 2)
    assert sorted(FailedRecord.objects.filter(status="open", record_id__in=["b-1", "b-2"])
                  .values_list("record_id", "reason")) == [("b-1", "NO_CHARGE"), ("b-2", "OUT_OF_RANGE")]
    assert not RatedUsage.objects.filter(record_id__in=["b-1", "b-2"]).exists()


def test_a_prepaid_balance_follows_the_ocs(nord, line_for, system, ocs):
    sub = line_for("4520000003", plan="MOB_PRE")
    top_up(sub, D("20.00"), actor=system, at=clock.now(), reference="voucher")
    usage_file = take(nord, HEADER
                      + b"p-1,sms,4520000003,4533123456,2026-11-05T09:15:00+01:00,,,1,,0.39,19.61\n"
                      # the OCS says 4.00 where 19.61 - 15.00 would be 4.61: the OCS is authoritative
                      + b"p-2,voice,4520000003,4533123456,2026-11-05T09:20:00+01:00,600,,,,15.00,4.00\n"
                      # no balance_after: the charge is taken off
                      + b"p-3,data,4520000003,,2026-11-05T10:00:00+01:00,,1048576,,,5.00,\n"
                      # nothing charged and the balance unchanged: no ledger entry
                      + b"p-4,sms,4520000003,4533123456,2026-11-05T11:00:00+01:00,,,1,,0,-1.00\n", system, "p.csv")
    assert (usage_file.rated, usage_file.failed) == (4, 0)
    after = dict(RatedUsage.objects.filter(subscription_id=sub.pk).values_list("record_id", "balance_after"))
    assert after == {"p-1": D("19.61"), "p-2": D("4"), "p-3": D("-1"), "p-4": D("-1")}
    ledger = list(PrepaidBalanceEntry.objects.filter(subscription=sub, cause="ocs").order_by("at", "id")
                  .values_list("reference", "amount", "balance_after"))
    assert ledger == [("ocs:p-1", D("-0.39"), D("19.61")), ("ocs:p-2", D("-15.61"), D("4")),
                      ("ocs:p-3", D("-5"), D("-1"))]
    assert PrepaidBalance.objects.get(subscription=sub).balance == D("-1")
    events = list(BalanceEvent.objects.filter(subscription=sub).order_by("id")
                  .values_list("kind", "record_id", "balance", "threshold"))
    assert events == [("LOW_BALANCE", "p-2", D("4"), D("5")), ("ZERO_BALANCE", "p-3", D("-1"), D("5"))]

    # re-rating the month leaves the OCS's rows and the balance alone
    assert rerate_subscription(sub, since=NOV, until=DEC, actor=system, at=clock.now(), defer=False)["reversed"] == 0
    assert PrepaidBalance.objects.get(subscription=sub).balance == D("-1")


def test_the_consumption_screen_shows_them(nord, line_for, system, ocs, make_user):
    sub = line_for("4520000001")
    take(nord, HEADER + b"o-1,voice,4520000001,4533123456,2026-11-05T09:15:00+01:00,125,,,,1.234567,\n", system,
         "1.csv")
    take(nord, PLAIN + b"m-1,sms,4520000001,4533123456,2026-11-05T09:16:00+01:00,,,1,,\n", system, "m.csv",
         source="nord-msc")
    client = login(make_user("vera", {nord: ["rating.view"]}), nord)
    response = client.get(reverse("rating:subscription_usage", args=[sub.pk]) + "?month=2026-11")
    assert response.status_code == 200
    rows = {row["usage"].record_id: row for row in response.context["rows"]}
    assert rows["o-1"]["charge"] == "1.234567" and rows["o-1"]["pre_rated"]
    assert not rows["m-1"]["pre_rated"]
    assert response.content.decode().count('data-testid="pre-rated"') == 1


def test_a_json_batch_carries_charge_and_balance_after(nord, line_for, system, ocs, make_user):
    sub = line_for("4520000003", plan="MOB_PRE")
    top_up(sub, D("10.00"), actor=system, at=clock.now(), reference="voucher")
    api = client_for(system, make_user, "ria", {nord: RATER})
    response = api.post("/api/v1/usage", {"brand": "NORD", "source": "ocs", "records": [
        {"record_id": "j-1", "service": "sms", "a_number": "4520000003", "b_number": "4533123456",
         "start_time": "2026-11-05T09:15:00+01:00", "charge": "0.40", "balance_after": "9.60"}]})
    assert response.status_code == 202, response.content
    bad = api.post("/api/v1/usage", {"brand": "NORD", "source": "ocs", "records": [
        {"record_id": "j-2", "service": "sms", "a_number": "4520000003", "b_number": "4533123456",
         "start_time": "2026-11-05T09:15:00+01:00", "charge": "0.40", "balance_after": "lots"}]})
    assert (bad.status_code, bad.json()["field"]) == (400, "records[0].balance_after")
    rate_pending(nord)
    assert RatedUsage.objects.get(record_id="j-1").balance_after == D("9.60")
    assert PrepaidBalance.objects.get(subscription=sub).balance == D("9.60")


def test_only_a_format_carrying_charges_may_be_pre_rated(nord, system, tmp_path):
    from telora.core.services.actors import ServiceError

    with pytest.raises(ServiceError) as refused:
        create_source(nord, actor=system, at=clock.now(), code="pbx", format="asterisk",
                      inbox=str(tmp_path / "pbx"), pre_rated=True)
    assert refused.value.field == "pre_rated"
    assert "asterisk files carry no charges; a pre-rated source sends csv" in refused.value.message
