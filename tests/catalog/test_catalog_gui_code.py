"""Config as code in the browser: a checked file lists what would change and writes nothing;
applying needs catalog.apply; errors name their path; the export downloads the active brand."""

import pytest
from catalog_gui_helpers import ALL, EDIT, VIEW
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gui_helpers import login
from telora.catalog import models as m
from telora.catalog import yamlio
from telora.core.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]


def changed(reference_text: str) -> str:
    return reference_text.replace('recurring: "149.00"', 'recurring: "159.00"')


def upload(text: str, name: str = "catalog.yaml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="application/yaml")


def test_check_lists_the_changes_and_writes_nothing(make_user, nord, reference_text):
    client = login(make_user("vera", {nord: VIEW}), nord)
    response = client.post(reverse("catalog:config"), {"action": "check", "file": upload(changed(reference_text))})
    assert response.status_code == 200
    result = response.context["result"]
    assert not result.applied
    assert result.lines() == ["would be updated price MOB_POST_10GB recurring: amount 149 → 159"]
    assert m.ProductPrice.objects.filter(amount="159.00").count() == 0
    html = response.content.decode()
    assert 'data-testid="check-result"' in html
    assert 'data-testid="apply-checked"' not in html  # vera may check, not apply
    assert not AuditEvent.objects.filter(action="config_apply", actor_user__username="vera").exists()


def test_apply_needs_the_apply_right(make_user, nord, reference_text):
    editor = login(make_user("eddie", {nord: EDIT}), nord)
    refused = editor.post(reverse("catalog:config"), {"action": "apply", "text": changed(reference_text)})
    assert "You lack catalog.apply" in str(refused.context["form"].non_field_errors())
    assert not m.ProductPrice.objects.filter(amount="159.00").exists()
    ada = login(make_user("ada", {nord: ALL}), nord)
    checked = ada.post(reverse("catalog:config"), {"action": "check", "file": upload(changed(reference_text))})
    assert 'data-testid="apply-checked"' in checked.content.decode()
    applied = ada.post(reverse("catalog:config"), {"action": "apply", "text": checked.context["checked_text"],
                                                   "source_name": "catalog.yaml"})
    assert applied.context["result"].applied
    assert m.ProductPrice.objects.filter(amount="159.00").exists()
    event = AuditEvent.objects.get(action="config_apply", actor_user__username="ada")
    assert event.message.startswith("catalog.yaml applied from")


def test_errors_are_listed_with_their_paths(make_user, nord, reference_text):
    client = login(make_user("ada", {nord: ALL}), nord)
    bad = reference_text.replace('recurring: "149.00"', "recurring: 149.5").replace("rate_plan: PRE_STD",
                                                                                     "rate_plan: NOPE")
    response = client.post(reverse("catalog:config"), {"action": "apply", "file": upload(bad)})
    assert response.context["errors"] == [
        'products[0].recurring: write the amount as a string in quotes ("149.5"): an unquoted decimal is a '
        "YAML float and not exact",
        "products[2].rate_plan: unknown rate plan 'NOPE'",
    ]
    assert 'data-testid="check-errors"' in response.content.decode()
    assert not m.Product.objects.filter(rate_plan__code="NOPE").exists()
    broken = client.post(reverse("catalog:config"), {"action": "check", "text": "version: 1\nbrand: [oops"})
    assert broken.context["form"].errors["file"][0].startswith("Not valid YAML: line 2")


def test_a_file_of_another_brand_is_refused(make_user, nord, brand_b, reference_text):
    client = login(make_user("bob", {brand_b: ALL}), brand_b)
    response = client.post(reverse("catalog:config"), {"action": "check", "file": upload(reference_text)})
    assert "the catalogue of brand NORD; you work in bravo" in response.context["form"].errors["file"][0]


def test_export_downloads_the_active_brands_catalogue(make_user, nord, brand_b):
    response = login(make_user("vera", {nord: VIEW}), nord).get(reverse("catalog:export"), {"at": "2026-02-01"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="NORD-catalog-2026-02-01.yaml"'
    data = yamlio.load(response.content.decode())
    assert data["brand"]["code"] == "NORD" and len(data["products"]) == 7
    other = login(make_user("bob", {brand_b: VIEW}), brand_b).get(reverse("catalog:export"))
    assert yamlio.load(other.content.decode())["products"] == []
    assert login(make_user("uma", {nord: ["users.view"]}), nord).get(reverse("catalog:export")).status_code == 403
