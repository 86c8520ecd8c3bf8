"""Failed records on screen: the log (open ones by default) and its filters, one record's page,
and the bulk actions: re-rate (rating.rerate) and delete (rating.delete_failed, confirmed first),
on chosen rows or on all that match the filter; buttons only for holders, POSTs checked again."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from rating_helpers import CDRS

from gui_helpers import login
from telora.core.models import AuditEvent
from telora.rating.models import FailedRecord, RatedUsage, UsageFile
from telora.rating.services import import_usage_file, rate_pending

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]

VIEW = ["rating.view"]
RERATE = ["rating.view", "rating.change", "rating.rerate"]
DELETE = ["rating.view", "rating.delete_failed"]
HTMX = {"HTTP_HX_REQUEST": "true"}
FAILED_AT = dt.datetime(2026, 10, 20, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def failures(nord, line_for, system, time_machine):
    """cdrs.csv rated on 2026-10-20: DUPLICATE nord-0001, UNKNOWN_SUBSCRIBER nord-0010, PARSE_ERROR nord-0011."""
    line_for("4520000001")
    time_machine.move_to(FAILED_AT)
    usage_file = import_usage_file(nord, CDRS, format="csv", source="nord-msc", actor=system, at=FAILED_AT,
                                   defer=False)
    rate_pending(nord)
    rows = {r.reason: r for r in FailedRecord.objects.filter(file=usage_file)}
    return usage_file, rows


def listed(response):
    return sorted(row["record"].record_id for row in response.context["rows"])


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["nord-0001", "nord-0010", "nord-0011"]),
    ("reason=UNKNOWN_SUBSCRIBER", ["nord-0010"]),
    ("a_number=%2B45+99+99+99+99", ["nord-0010"]),
    ("source=nord-msc&reason=PARSE_ERROR", ["nord-0011"]),
    ("source=other", []),
    ("created_from=2026-10-20&created_to=2026-10-20", ["nord-0001", "nord-0010", "nord-0011"]),
    ("created_from=2026-10-21", []),
    ("created_to=2026-10-19", []),
    ("status=deleted", []),
])
def test_the_failed_list_filters(make_user, nord, failures, query, expected):
    client = login(make_user("vera", {nord: VIEW}), nord)
    assert listed(client.get(reverse("rating:failed_list") + "?" + query)) == expected


def test_the_file_filter_and_the_default_open_status(make_user, nord, failures, system):
    usage_file, rows = failures
    client = login(make_user("vera", {nord: VIEW}), nord)
    FailedRecord.objects.filter(pk=rows["DUPLICATE"].pk).update(status="deleted")
    assert listed(client.get(reverse("rating:failed_list") + f"?file={usage_file.pk}")) == ["nord-0010", "nord-0011"]
    assert listed(client.get(reverse("rating:failed_list") + "?status=any")) == ["nord-0001", "nord-0010", "nord-0011"]
    assert listed(client.get(reverse("rating:failed_list") + f"?file={usage_file.pk + 1}")) == []
    part = client.get(reverse("rating:failed_list") + "?reason=PARSE_ERROR", **HTMX)
    assert part.templates[0].name == "rating/failed/_table.html"


def test_a_parse_error_shows_its_raw_line_and_a_rated_failure_its_fields(make_user, nord, failures):
    usage_file, rows = failures
    client = login(make_user("vera", {nord: VIEW}), nord)
    html = client.get(reverse("rating:failed_detail", args=[rows["PARSE_ERROR"].pk])).content.decode()
    assert "nord-0011,voice,4520000001,,not-a-time,abc,,,DK," in html
    assert reverse("rating:file_detail", args=[usage_file.pk]) in html
    assert 'data-testid="line">13<' in html  # the 13th line of the file (the header is line 1)
    response = client.get(reverse("rating:failed_detail", args=[rows["UNKNOWN_SUBSCRIBER"].pk]))
    fields = dict(response.context["fields"])
    assert (fields["a_number"], fields["b_number"], fields["service"], fields["duration"]) == (
        "4599999999", "4533123456", "voice", 60)
    assert [name for name, _ in response.context["fields"]][:4] == ["record_id", "service", "a_number", "b_number"]
    assert response.context["is_parse_error"] is False
    html = response.content.decode()
    assert 'data-testid="reason">UNKNOWN_SUBSCRIBER<' in html
    assert 'data-testid="rerate"' not in html and 'data-testid="delete"' not in html  # a viewer


def test_buttons_follow_the_rights(make_user, nord, failures):
    _file, rows = failures
    url = reverse("rating:failed_list")
    viewer = login(make_user("vera", {nord: VIEW}), nord).get(url).content.decode()
    assert 'data-testid="bulk-actions"' not in viewer and 'name="ids"' not in viewer
    rerater = login(make_user("remy", {nord: RERATE}), nord).get(url).content.decode()
    assert 'data-testid="bulk-rerate"' in rerater and 'data-testid="bulk-delete"' not in rerater
    deleter = login(make_user("dana", {nord: DELETE}), nord)
    html = deleter.get(url).content.decode()
    assert 'data-testid="bulk-delete"' in html and 'data-testid="bulk-rerate"' not in html
    detail = deleter.get(reverse("rating:failed_detail", args=[rows["PARSE_ERROR"].pk])).content.decode()
    assert 'data-testid="delete"' in detail and 'data-testid="rerate"' not in detail


def test_delete_asks_first_then_deletes_and_audits(make_user, nord, failures):
    _file, rows = failures
    record = rows["PARSE_ERROR"]
    client = login(make_user("dana", {nord: DELETE}), nord)
    back = reverse("rating:failed_list") + "?reason=PARSE_ERROR"
    response = client.post(reverse("rating:failed_action"), {"action": "delete", "ids": [record.pk], "next": back})
    assert response.status_code == 200 and response.context["count"] == 1
    assert 'data-testid="confirm-delete"' in response.content.decode()
    record.refresh_from_db()
    assert record.status == "open"  # nothing happens before the confirmation

    response = client.post(reverse("rating:failed_action"),
                           {"action": "delete", "ids": [record.pk], "confirm": "1", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    record.refresh_from_db()
    assert record.status == "deleted"
    event = AuditEvent.objects.get(action="delete_failed")
    assert event.actor_label == "dana" and event.changes["ids"] == [None, [record.pk]]
    assert listed(client.get(reverse("rating:failed_list"))) == ["nord-0001", "nord-0010"]


def test_delete_all_that_match_the_filter(make_user, nord, failures):
    client = login(make_user("dana", {nord: DELETE}), nord)
    data = {"action": "delete", "all_matching": "1", "reason": "DUPLICATE", "status": "open"}
    response = client.post(reverse("rating:failed_action"), data)
    assert response.context["count"] == 1 and [r.record_id for r in response.context["sample"]] == ["nord-0001"]
    client.post(reverse("rating:failed_action"), {**data, "confirm": "1"})
    assert dict(FailedRecord.objects.values_list("record_id", "status")) == {
        "nord-0001": "deleted", "nord-0010": "open", "nord-0011": "open"}


def test_without_the_right_the_actions_are_forbidden(make_user, nord, failures):
    _file, rows = failures
    ids = [r.pk for r in rows.values()]
    viewer = login(make_user("vera", {nord: VIEW}), nord)
    for action in ("delete", "rerate"):
        response = viewer.post(reverse("rating:failed_action"), {"action": action, "ids": ids, "confirm": "1"})
        assert response.status_code == 403
    rerater = login(make_user("remy", {nord: RERATE}), nord)
    assert rerater.post(reverse("rating:failed_action"),
                        {"action": "delete", "ids": ids, "confirm": "1"}).status_code == 403
    assert set(FailedRecord.objects.values_list("status", flat=True)) == {"open"}
    assert not AuditEvent.objects.filter(action__in=["delete_failed", "rerate_failed"]).exists()


def test_rerate_after_the_subscription_is_fixed(make_user, nord, failures, line_for):
    _file, rows = failures
    line_for("4599999999")  # the missing subscription, holding the number since 2026-01-01
    client = login(make_user("remy", {nord: RERATE}), nord)
    response = client.post(reverse("rating:failed_action"),
                           {"action": "rerate", "ids": [rows["UNKNOWN_SUBSCRIBER"].pk, rows["PARSE_ERROR"].pk]},
                           follow=True)
    text = " ".join(str(m) for m in response.context["messages"])
    assert "1 failed records taken in again" in text and "Skipped: 1 PARSE_ERROR." in text
    assert dict(FailedRecord.objects.values_list("record_id", "status")) == {
        "nord-0001": "open", "nord-0010": "rerated", "nord-0011": "open"}
    again = UsageFile.objects.get(name="re-rate of failed records")
    rate_pending(nord)
    usage = RatedUsage.objects.get(record_id="nord-0010")
    # 60 s to a Danish landline on a Monday at 09:15: DK, PEAK, 0.30 a minute, charged by the second
    assert (usage.zone, usage.band, usage.quantity, usage.charge, usage.file_id) == (
        "DK", "PEAK", 60, Decimal("0.300000"), again.pk)


def test_nothing_chosen_is_a_message_not_an_action(make_user, nord, failures):
    client = login(make_user("dana", {nord: DELETE}), nord)
    response = client.post(reverse("rating:failed_action"), {"action": "delete"}, follow=True)
    assert "Choose the records first" in " ".join(str(m) for m in response.context["messages"])
    assert set(FailedRecord.objects.values_list("status", flat=True)) == {"open"}
