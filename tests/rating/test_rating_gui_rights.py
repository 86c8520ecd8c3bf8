"""Rating screens and rights: Rating in the menu only with rating.view, 403 for every screen
without it, and brand A's files, failed records and progress are 404 (or absent from lists) for
a user of brand B, even one holding every rating right there."""

import pytest
from django.urls import reverse
from rating_helpers import CDRS

from gui_helpers import login
from telora.core import clock
from telora.rating.models import FailedRecord, UsageFile
from telora.rating.services import import_usage_file, rate_pending

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]

EVERYTHING = ["rating.view", "rating.change", "rating.rerate", "rating.delete_failed"]


@pytest.fixture
def rated(nord, line_for, system):
    line_for("4520000001")
    usage_file = import_usage_file(nord, CDRS, format="csv", source="nord-msc", actor=system, at=clock.now(),
                                   defer=False)
    rate_pending(nord)
    return usage_file


def test_rating_is_in_the_menu_only_with_rating_view(make_user, nord):
    viewer = login(make_user("vera", {nord: ["rating.view"]}), nord)
    menu = viewer.get(reverse("ui:home")).context["menu"]
    assert [area.code for area in menu] == ["rating"]
    assert menu[0].url_name == "rating:file_list"
    other = login(make_user("cody", {nord: ["customers.view"]}), nord)
    assert "rating" not in [area.code for area in other.get(reverse("ui:home")).context["menu"]]


@pytest.mark.parametrize("url_name", ["rating:file_list", "rating:upload", "rating:batch_list",
                                      "rating:failed_list"])
def test_without_the_area_every_screen_is_forbidden(make_user, nord, url_name):
    client = login(make_user("cody", {nord: ["customers.view"]}), nord)
    assert client.get(reverse(url_name)).status_code == 403


def test_without_the_area_objects_are_not_found(make_user, nord, rated):
    client = login(make_user("cody", {nord: ["customers.view"]}), nord)
    failed = FailedRecord.objects.filter(file=rated).first()
    for url_name, pk in [("rating:file_detail", rated.pk), ("rating:file_progress", rated.pk),
                         ("rating:failed_detail", failed.pk)]:
        assert client.get(reverse(url_name, args=[pk])).status_code == 404, url_name
    assert client.post(reverse("rating:failed_action"), {"action": "delete", "ids": [failed.pk]}).status_code == 403


def test_another_brands_files_and_failed_records(make_user, nord, brand_b, rated):
    client = login(make_user("bob", {brand_b: EVERYTHING}), brand_b)
    failed = list(FailedRecord.objects.filter(file=rated))
    for url_name, pk in [("rating:file_detail", rated.pk), ("rating:file_progress", rated.pk),
                         ("rating:failed_detail", failed[0].pk)]:
        assert client.get(reverse(url_name, args=[pk])).status_code == 404, url_name
    assert client.get(reverse("rating:file_list")).context["rows"] == []
    assert client.get(reverse("rating:failed_list") + "?status=any").context["rows"] == []
    assert client.get(reverse("rating:batch_list")).context["done"] == []
    # actions post ids of brand A in brand B: nothing is found to act on
    ids = [r.pk for r in failed]
    client.post(reverse("rating:failed_action"), {"action": "delete", "ids": ids, "confirm": "1"})
    client.post(reverse("rating:failed_action"), {"action": "delete", "all_matching": "1", "confirm": "1",
                                                  "status": "open"})
    client.post(reverse("rating:failed_action"), {"action": "rerate", "ids": ids})
    assert set(FailedRecord.objects.values_list("status", flat=True)) == {"open"}
    assert UsageFile.objects.count() == 1


def test_a_user_of_both_brands_sees_the_active_brands_rows(make_user, nord, brand_b, rated):
    both = make_user("bo", {nord: ["rating.view"], brand_b: ["rating.view"]})
    assert login(both, brand_b).get(reverse("rating:file_list")).context["rows"] == []
    assert [row["file"] for row in login(both, nord).get(reverse("rating:file_list")).context["rows"]] == [rated]
    # an object page opens in the object's own brand (a link from search or the audit log)
    assert login(both, brand_b).get(reverse("rating:file_detail", args=[rated.pk])).status_code == 200


def test_the_search_box_finds_files_of_the_active_brand_only(make_user, nord, brand_b, rated):
    query = reverse("ui:search") + "?q=cdrs"
    found = login(make_user("vera", {nord: ["rating.view"]}), nord).get(query).context["results"]
    assert [(r.label, r.url) for r in found if r.kind == "Usage files"] == [
        ("cdrs.csv", reverse("rating:file_detail", args=[rated.pk]))]
    other = login(make_user("bob", {brand_b: ["rating.view"]}), brand_b).get(query).context["results"]
    assert [r for r in other if r.kind == "Usage files"] == []
    no_right = login(make_user("cody", {nord: ["customers.view"]}), nord).get(query).context["results"]
    assert [r for r in no_right if r.kind == "Usage files"] == []
