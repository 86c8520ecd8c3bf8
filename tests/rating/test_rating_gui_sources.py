"""The collector's sources screens: the list (rating.view), create, edit and scan now (rating.change),
form errors on the field the service names, and brand A's sources out of brand B's reach."""

import os
import time
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from gui_helpers import form_errors, login
from telora.core import clock
from telora.core.models import AuditEvent
from telora.rating.models import UsageFile, UsageSource
from telora.rating.services.collector import create_source

pytestmark = pytest.mark.django_db
CSV = ("record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"
       "g-1,voice,4520000001,4533123456,2026-10-05T09:15:00+02:00,60,,,DK,\n")


def put(folder: Path, name: str, content: str, age: float = 60) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(content)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture
def source(brand_a, system, tmp_path):
    return create_source(brand_a, actor=system, at=clock.now(), code="msc", format="csv",
                         inbox=str(tmp_path / "a" / "inbox"))


def test_the_list_shows_the_brands_sources_with_what_waits(make_user, brand_a, source, tmp_path):
    put(Path(source.inbox), "one.csv", CSV)
    put(Path(source.inbox), "two.csv.part", CSV)
    client = login(make_user("vera", {brand_a: ["rating.view"]}), brand_a)
    response = client.get(reverse("rating:source_list"))
    assert response.status_code == 200
    assert [(row["source"].code, row["waiting"]) for row in response.context["rows"]] == [("msc", 1)]
    assert response.context["can_change"] is False
    html = response.content.decode()
    assert source.inbox in html and "never" in html
    assert reverse("rating:source_scan", args=[source.pk]) not in html
    assert reverse("rating:source_create") not in html


def test_viewers_cannot_create_edit_or_scan(make_user, brand_a, source):
    client = login(make_user("vera", {brand_a: ["rating.view"]}), brand_a)
    assert client.get(reverse("rating:source_create")).status_code == 403
    assert client.get(reverse("rating:source_edit", args=[source.pk])).status_code == 403
    assert client.post(reverse("rating:source_scan", args=[source.pk])).status_code == 403
    outsider = login(make_user("cody", {brand_a: ["customers.view"]}), brand_a)
    assert outsider.get(reverse("rating:source_list")).status_code == 403


def test_create_with_default_folders_and_errors_on_the_field(make_user, brand_a, tmp_path):
    client = login(make_user("otto", {brand_a: ["rating.view", "rating.change"]}), brand_a)
    assert client.get(reverse("rating:source_create")).status_code == 200
    data = {"code": "pgw", "format": "ber", "inbox": str(tmp_path / "pgw" / "in"), "archive": "", "errors": "",
            "settle_seconds": "20", "pattern": "*.ber", "enabled": "on"}
    response = client.post(reverse("rating:source_create"), data | {"inbox": "pgw/in"})
    assert response.status_code == 200
    assert form_errors(response) == {"inbox": ["'pgw/in' is not an absolute path"]}
    response = client.post(reverse("rating:source_create"), data)
    assert response.status_code == 302 and response.url == reverse("rating:source_list")
    source = UsageSource.objects.get(code="pgw")
    assert (source.brand_id, source.format, source.archive, source.errors, source.settle_seconds, source.pattern) == (
        brand_a.pk, "ber", str(tmp_path / "pgw" / "archive"), str(tmp_path / "pgw" / "errors"), 20, "*.ber")
    event = AuditEvent.objects.get(action="create", object_type="rating.usagesource")
    assert event.actor_label == "otto"
    response = client.post(reverse("rating:source_create"), data)
    assert form_errors(response) == {"code": ["alpha already has a source 'pgw'"]}


def test_edit_and_disable(make_user, brand_a, source):
    client = login(make_user("otto", {brand_a: ["rating.view", "rating.change"]}), brand_a)
    url = reverse("rating:source_edit", args=[source.pk])
    response = client.get(url)
    assert response.context["form"].initial["inbox"] == source.inbox
    data = {"code": "msc", "format": "asterisk", "inbox": source.inbox, "archive": source.archive,
            "errors": source.errors, "settle_seconds": "5", "pattern": "Master*.csv"}  # unchecked: disabled
    response = client.post(url, data)
    assert response.status_code == 302
    source.refresh_from_db()
    assert (source.format, source.settle_seconds, source.pattern, source.enabled) == (
        "asterisk", 5, "Master*.csv", False)
    html = client.get(reverse("rating:source_list")).content.decode()
    assert "disabled" in html and reverse("rating:source_scan", args=[source.pk]) not in html
    response = client.post(reverse("rating:source_scan", args=[source.pk]))
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["enabled: the source msc is disabled"]


def test_scan_now_takes_the_files_and_reports(make_user, brand_a, source):
    put(Path(source.inbox), "good.csv", CSV)
    put(Path(source.inbox), "bad.csv", "not,a\nusage file\n")
    client = login(make_user("otto", {brand_a: ["rating.view", "rating.change"]}), brand_a)
    response = client.post(reverse("rating:source_scan", args=[source.pk]))
    assert response.status_code == 302 and response.url == reverse("rating:source_list")
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["msc: 1 taken in, 1 refused, 0 waiting."]
    usage_file = UsageFile.objects.get()
    assert usage_file.name == "good.csv"
    assert AuditEvent.objects.get(action="import", object_type="rating.usagefile").actor_label == "otto"
    html = client.get(reverse("rating:source_list")).content.decode()
    assert "bad.csv to errors" in html


def test_another_brands_sources_are_out_of_reach(make_user, brand_a, brand_b, source, system):
    everything = ["rating.view", "rating.change", "rating.rerate", "rating.delete_failed"]
    client = login(make_user("bob", {brand_b: everything}), brand_b)
    assert client.get(reverse("rating:source_list")).context["rows"] == []
    put(Path(source.inbox), "a.csv", CSV)
    assert client.get(reverse("rating:source_edit", args=[source.pk])).status_code == 404
    assert client.post(reverse("rating:source_scan", args=[source.pk])).status_code == 404
    assert (Path(source.inbox) / "a.csv").exists() and not UsageFile.objects.exists()
    # Brand A's user sees only brand A's sources even when brand B has some.
    create_source(brand_b, actor=system, at=clock.now(), code="bsc", format="csv",
                  inbox=str(Path(source.inbox).parent.parent / "b" / "inbox"))
    mine = login(make_user("ann", {brand_a: ["rating.view"]}), brand_a)
    assert [row["source"].code for row in mine.get(reverse("rating:source_list")).context["rows"]] == ["msc"]



def test_a_source_is_marked_pre_rated_and_listed_so(make_user, brand_a, source):
    client = login(make_user("otto", {brand_a: ["rating.view", "rating.change"]}), brand_a)
    url = reverse("rating:source_edit", args=[source.pk])
    assert client.get(url).context["form"].initial["pre_rated"] is False
    data = {"code": "msc", "format": "csv", "inbox": source.inbox, "archive": source.archive,
            "errors": source.errors, "settle_seconds": "5", "pattern": "*", "enabled": "on", "pre_rated": "on"}
    assert client.post(url, data).status_code == 302
    source.refresh_from_db()
    assert source.pre_rated
    event = AuditEvent.objects.filter(action="update", object_type="rating.usagesource").latest("id")
    assert event.changes["pre_rated"] == [False, True]
    assert 'data-testid="pre-rated-msc"' in client.get(reverse("rating:source_list")).content.decode()
