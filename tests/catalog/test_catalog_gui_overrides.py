"""A customer group's rate overrides on its catalogue page: added, changed and ended from dates
through forms checked by the file's own validation; a viewer sees them and cannot change them;
another brand's user gets 404."""

import datetime as dt
from decimal import Decimal

import pytest
from catalog_gui_helpers import EDIT, VIEW
from django.urls import reverse

from gui_helpers import form_errors, login
from telora.catalog import models as m
from telora.catalog.services import save_customer_group
from telora.core import clock

pytestmark = pytest.mark.django_db


@pytest.fixture
def biz(nord, system):
    return save_customer_group(nord, {"code": "BIZ", "name": "Business"}, actor=system, at=clock.now())


def test_overrides_are_added_changed_and_ended_from_dates(make_user, nord, biz):
    client = login(make_user("petra", {nord: EDIT}), nord)
    url = reverse("catalog:rate_override_form", args=[biz.pk])
    override = {"rate_plan": "POST_STD", "service": "voice", "zone": "EU", "band": "", "price": "0.50", "unit": "60",
                "first_increment": "1", "next_increment": "1"}
    assert form_errors(client.post(url, {**override, "zone": "HOME"})) == {
        "zone": ["zone HOME has no prefixes: voice is rated by destination"]}
    assert "not both" in form_errors(client.post(url, {**override, "discount": "10"}))["price"][0]
    assert client.post(url, override).status_code == 302
    assert client.post(url, {"service": "data", "zone": "EU_ROAM", "discount": "20"}).status_code == 302
    stored = {(o.service, o.zone.code): (o.price, o.percent) for o in m.RateOverride.objects.filter(customer_group=biz)}
    assert stored == {("voice", "EU"): (Decimal("0.50"), None), ("data", "EU_ROAM"): (None, Decimal("20"))}
    page = client.get(reverse("catalog:customer_group_detail", args=[biz.pk]))
    assert len(page.context["overrides"]) == 2 and b'data-testid="rate-overrides"' in page.content

    later = clock.today(nord) + dt.timedelta(days=10)
    key = {"key_rate_plan": "POST_STD", "key_service": "voice", "key_zone": "EU"}
    edit = client.get(url, key)
    assert edit.context["form"].initial["price"] == "0.50" and edit.context["form"].fields["zone"].disabled
    changed = client.post(url, {**key, "price": "0.40", "unit": "60", "first_increment": "1", "next_increment": "1",
                                "effective_from": later.isoformat()})
    assert changed.status_code == 302, form_errors(changed)
    assert [(o.price, o.valid_to) for o in m.RateOverride.objects.filter(zone__code="EU").order_by("valid_from")] == [
        (Decimal("0.50"), later), (Decimal("0.40"), None)]
    ended = client.post(reverse("catalog:rate_override_end", args=[biz.pk]),
                        {"key_service": "data", "key_zone": "EU_ROAM", "effective_from": later.isoformat()})
    assert ended.status_code == 302
    assert m.RateOverride.objects.get(zone__code="EU_ROAM").valid_to == later
    # editing the group's name keeps its overrides
    edit_group = client.post(reverse("catalog:customer_group_edit", args=[biz.pk]), {"name": "Business customers"})
    assert edit_group.status_code == 302, form_errors(edit_group)
    assert m.RateOverride.objects.at(clock.today(nord)).count() == 2


def test_a_viewer_cannot_change_and_another_brand_gets_404(make_user, make_brand, nord, biz):
    viewer = login(make_user("vera", {nord: VIEW}), nord)
    assert viewer.get(reverse("catalog:customer_group_detail", args=[biz.pk])).status_code == 200
    assert viewer.post(reverse("catalog:rate_override_form", args=[biz.pk]),
                       {"service": "sms", "zone": "DK", "discount": "10"}).status_code == 403
    other = make_brand("other")
    outsider = login(make_user("otto", {other: EDIT}), other)
    assert outsider.post(reverse("catalog:rate_override_form", args=[biz.pk]),
                         {"service": "sms", "zone": "DK", "discount": "10"}).status_code == 404
    assert not m.RateOverride.objects.exists()
