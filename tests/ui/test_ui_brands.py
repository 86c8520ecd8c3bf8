"""Brands: system administrators create and edit them; the logo is served through a checked view."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from telora.core.models import AuditEvent, Brand

pytestmark = pytest.mark.django_db

# The smallest valid PNG: one transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082"
)

BRAND_FORM = {
    "code": "delta", "name": "Delta Fibre", "currency": "eur", "timezone": "Europe/Berlin", "country": "DE",
    "language": "de", "primary_colour": "#aa3300", "secondary_colour": "#111111", "is_active": "on",
}


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_admin_creates_a_brand_with_a_logo(admin_client_ui):
    response = admin_client_ui.post(reverse("ui:brand_create"), {
        **BRAND_FORM, "logo": SimpleUploadedFile("logo.png", PNG, content_type="image/png")})
    assert response.status_code == 302
    brand = Brand.objects.get(code="delta")
    assert brand.currency == "EUR"
    assert brand.logo.name.startswith("brands/")
    logo = admin_client_ui.get(reverse("ui:brand_logo", args=[brand.pk]))
    assert logo.status_code == 200
    assert logo["Content-Type"] == "image/png"
    assert b"".join(logo.streaming_content) == PNG


def test_logo_must_be_a_raster_image(admin_client_ui):
    svg = SimpleUploadedFile("logo.svg", b"<svg onload='alert(1)'></svg>", content_type="image/svg+xml")
    response = admin_client_ui.post(reverse("ui:brand_create"), {**BRAND_FORM, "logo": svg})
    assert response.status_code == 200
    assert response.context["form"].errors["logo"]
    assert not Brand.objects.filter(code="delta").exists()


def test_service_validation_lands_on_the_field(admin_client_ui):
    response = admin_client_ui.post(reverse("ui:brand_create"), {**BRAND_FORM, "currency": "XYZ"})
    assert response.status_code == 200
    assert response.context["form"].errors["currency"]


def test_editing_a_brand_is_audited_and_keeps_its_code(admin_client_ui, brand_a):
    response = admin_client_ui.post(reverse("ui:brand_edit", args=[brand_a.pk]), {
        **BRAND_FORM, "code": "changed", "name": "Alpha Mobile NL", "currency": "EUR",
        "timezone": "Europe/Amsterdam", "country": "NL", "language": "nl"})
    assert response.status_code == 302
    brand_a.refresh_from_db()
    assert brand_a.code == "alpha"
    assert brand_a.name == "Alpha Mobile NL"
    event = AuditEvent.objects.for_object(brand_a).get(action="update")
    assert event.changes["name"] == ["Alpha Mobile", "Alpha Mobile NL"]
    page = admin_client_ui.get(reverse("ui:brand_detail", args=[brand_a.pk])).content.decode()
    assert 'data-testid="history"' in page and "Alpha Mobile NL" in page


def test_logo_is_served_only_to_people_of_the_brand(admin_client_ui, make_user, brand_a, brand_b, client_for):
    admin_client_ui.post(reverse("ui:brand_edit", args=[brand_a.pk]), {
        **BRAND_FORM, "name": "Alpha Mobile", "timezone": "Europe/Amsterdam", "country": "NL", "language": "en",
        "logo": SimpleUploadedFile("logo.png", PNG)})
    outsider = client_for(make_user("bob", {brand_b: ["users.view"]}))
    insider = client_for(make_user("ann", {brand_a: ["users.view"]}))
    assert outsider.get(reverse("ui:brand_logo", args=[brand_a.pk])).status_code == 404
    assert insider.get(reverse("ui:brand_logo", args=[brand_a.pk])).status_code == 200
    assert f'src="{reverse("ui:brand_logo", args=[brand_a.pk])}"' in insider.get(reverse("ui:home")).content.decode()
