"""/api/v1/config: apply (and check) catalogue YAML over HTTP, export it back, errors with YAML paths."""

import pytest
from catalog_api_helpers import ApiClient, client_for
from catalog_helpers import DATA, DAY0
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from telora.catalog import models as m
from telora.catalog.export import export_yaml
from telora.core.models import AuditEvent, Brand

pytestmark = pytest.mark.django_db

APPLY, EXPORT = "/api/v1/config/apply", "/api/v1/config/export"
APPLIER = ["catalog.view", "catalog.apply"]


@pytest.fixture
def admin_api(admin_user):
    client = Client()
    client.force_login(admin_user)
    return ApiClient(client=client)


@pytest.fixture
def nord_brand(make_brand):
    return make_brand("NORD", name="Nordmobil", currency="DKK", timezone="Europe/Copenhagen", country="DK",
                      language="da")


def test_the_reference_file_round_trips_through_the_api(admin_api, reference_text):
    applied = admin_api.post(APPLY, reference_text, content_type="application/yaml", effective_from=DAY0)
    assert applied.status_code == 200, applied.content
    body = applied.json()
    assert (body["brand"], body["effective_from"], body["applied"]) == ("NORD", "2026-01-01", True)
    assert body["counts"]["create"] == len(body["changes"]) and body["counts"]["update"] == 0
    assert {"action": "create", "entity": "brand", "key": "NORD", "details": []} in body["changes"]
    assert m.Product.objects.filter(brand__code="NORD").count() == 7

    exported = admin_api.get(EXPORT, brand="NORD", at="2026-01-01")
    assert exported.status_code == 200
    assert exported["Content-Type"] == "application/yaml; charset=utf-8"
    assert exported["Content-Disposition"] == 'inline; filename="NORD-catalog-2026-01-01.yaml"'
    text = exported.content.decode()
    assert text == export_yaml(Brand.objects.get(code="NORD"), DAY0)  # the same bytes as the CLI

    again = admin_api.post(APPLY, text, content_type="text/yaml", effective_from=DAY0)
    assert again.status_code == 200 and again.json()["changes"] == [] and again.json()["summary"] == "no changes"


def test_a_check_reports_changes_and_writes_nothing(nord_brand, system, make_user, reference_text):
    checker = client_for(system, make_user, "vera", {nord_brand: ["catalog.view"]})
    response = checker.post(APPLY, reference_text, content_type="application/yaml", check="true",
                            effective_from=DAY0)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["applied"] is False and body["counts"]["create"] > 0
    assert any(c["entity"] == "product" and c["key"] == "MOB_POST_10GB" for c in body["changes"])
    assert not m.Product.objects.exists()
    assert not AuditEvent.objects.filter(action="config_apply").exists()
    refused = checker.post(APPLY, reference_text, content_type="application/yaml")
    assert refused.status_code == 403 and "catalog.apply" in refused.json()["message"]


def test_applying_needs_catalog_apply_in_the_files_brand(nord_brand, brand_a, system, make_user, reference_text):
    applier = client_for(system, make_user, "pia", {nord_brand: APPLIER})
    response = applier.post(APPLY, reference_text, content_type="application/yaml", effective_from=DAY0)
    assert response.status_code == 200, response.content
    event = AuditEvent.objects.get(action="config_apply")
    assert event.actor_label.startswith("api-key:") and "request body applied" in event.message
    other = client_for(system, make_user, "ola", {brand_a: APPLIER})
    refused = other.post(APPLY, reference_text, content_type="application/yaml")
    assert refused.status_code == 403 and "NORD" in refused.json()["message"]
    no_area = client_for(system, make_user, "cy", {nord_brand: ["customers.view"]})
    assert no_area.post(APPLY, reference_text, content_type="application/yaml").status_code == 403
    assert no_area.post(APPLY, reference_text, content_type="application/yaml", check="true").status_code == 403
    new_brand = reference_text.replace("code: NORD", "code: SYD")
    assert applier.post(APPLY, new_brand, content_type="application/yaml").status_code == 403  # admins only


def test_a_file_can_come_as_a_multipart_upload(nord_brand, system, make_user):
    applier = client_for(system, make_user, "pia", {nord_brand: APPLIER})
    upload = SimpleUploadedFile("catalog.yaml", (DATA / "catalog.yaml").read_bytes(), "application/yaml")
    response = applier.client.post(f"{APPLY}?effective_from=2026-01-01", {"file": upload}, headers=applier.headers)
    assert response.status_code == 200, response.content
    assert response.json()["applied"] is True
    assert "catalog.yaml applied" in AuditEvent.objects.get(action="config_apply").message


def test_every_error_comes_back_with_its_yaml_path(nord_brand, system, make_user, reference_text):
    applier = client_for(system, make_user, "pia", {nord_brand: APPLIER})
    broken = (reference_text.replace('recurring: "149.00"', "recurring: 149.5")
              .replace("anchor_day: 15", "anchor_day: 32"))
    response = applier.post(APPLY, broken, content_type="application/yaml")
    assert response.status_code == 400
    body = response.json()
    assert body["@type"] == "Error" and body["status"] == "400"
    paths = [e["path"] for e in body["errors"]]
    assert "products[0].recurring" in paths and "bill_cycles[1].anchor_day" in paths
    assert all(e["field"] == e["path"] for e in body["errors"])
    assert body["field"] == paths[0]
    assert any("quotes" in e["message"] for e in body["errors"] if e["path"] == "products[0].recurring")
    assert not m.Product.objects.exists()


def test_yaml_that_does_not_parse_or_is_missing(nord_brand, system, make_user):
    applier = client_for(system, make_user, "pia", {nord_brand: APPLIER})
    bad = applier.post(APPLY, "brand:\n  code: [NORD\n", content_type="application/yaml")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["path"] == "" and "line 3" in bad.json()["message"]
    empty = applier.post(APPLY, "  \n", content_type="application/yaml")
    assert empty.status_code == 400 and "empty" in empty.json()["message"]
    json_body = applier.post(APPLY, {"brand": {}})
    assert json_body.status_code == 415 and json_body.json()["code"] == "unsupported_media_type"


def test_export_rights_and_dates(nord_brand, brand_a, system, make_user, reference_text, apply, reference):
    apply(reference, effective_from=DAY0)
    viewer = client_for(system, make_user, "vera", {nord_brand: ["catalog.view"]})
    before = viewer.get(EXPORT, brand="NORD", at="2025-12-31")
    assert before.status_code == 200 and "MOB_POST_10GB" not in before.content.decode()
    assert "MOB_POST_10GB" in viewer.get(EXPORT, brand="NORD").content.decode()
    other = client_for(system, make_user, "ola", {brand_a: ["catalog.view"]})
    assert other.get(EXPORT, brand="NORD").status_code == 404
    assert viewer.get(EXPORT, brand="nope").status_code == 404
    assert viewer.get(EXPORT, brand="NORD", at="31-12-2025").json()["field"] == "at"
    assert viewer.get(EXPORT).json()["field"] == "brand"
    no_area = client_for(system, make_user, "cy", {nord_brand: ["customers.view"]})
    assert no_area.get(EXPORT, brand="NORD").status_code == 403
