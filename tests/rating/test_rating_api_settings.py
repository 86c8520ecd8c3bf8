"""/api/v1/rating/settings: the brand's low-balance threshold read with rating.view and changed
with rating.change, exactly, errors naming the field, and another brand's out of reach."""

from decimal import Decimal as D

import pytest
from rating_api_helpers import RATER, ApiClient, client_for

from telora.core.models import AuditEvent
from telora.rating.services.settings import rating_settings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]
URL = "/api/v1/rating/settings"


def test_read_and_change_the_threshold(nord, system, make_user):
    api = client_for(system, make_user, "ria", {nord: RATER})
    assert api.get(URL, brand="NORD").json() == {"brand": "NORD", "currency": "DKK", "low_balance_threshold": "5.00"}
    changed = api.client.put(URL, '{"brand": "NORD", "low_balance_threshold": 7.125}', content_type="application/json",
                             headers=api.headers)
    assert changed.status_code == 200, changed.content
    assert changed.json()["low_balance_threshold"] == "7.125"
    assert rating_settings(nord).low_balance_threshold == D("7.125")
    assert AuditEvent.objects.filter(object_type="rating.ratingsettings", action="update").count() == 1
    bad = api.client.put(URL, '{"brand": "NORD", "low_balance_threshold": "-1"}', content_type="application/json",
                         headers=api.headers)
    assert (bad.status_code, bad.json()["field"]) == (400, "low_balance_threshold")
    assert api.get(URL).json()["brand"] == "NORD"  # one brand: it may be left out


def test_rights_and_brands(nord, brand_b, system, make_user):
    viewer = client_for(system, make_user, "vic", {nord: ["rating.view"]})
    assert viewer.get(URL, brand="NORD").status_code == 200
    put = viewer.client.put(URL, '{"brand": "NORD", "low_balance_threshold": "1"}', content_type="application/json",
                            headers=viewer.headers)
    assert put.status_code == 403
    assert ApiClient().get(URL, brand="NORD").status_code == 401
    other = client_for(system, make_user, "bob", {brand_b: RATER})
    assert (other.get(URL, brand="NORD").status_code, other.get(URL, brand="NORD").json()["field"]) == (400, "brand")
    put = other.client.put(URL, '{"brand": "NORD", "low_balance_threshold": "1"}', content_type="application/json",
                           headers=other.headers)
    assert (put.status_code, put.json()["field"]) == (400, "brand")
    assert rating_settings(nord).low_balance_threshold == D("5.00")
