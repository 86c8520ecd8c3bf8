"""Customer screens and rights: the area in the menu, 403 without it in the active brand, 404 for
another brand's customers, subscriptions, accounts and files, and read-only users kept from writing."""

import pytest
from customers_gui_helpers import CSR, PDF, VIEW
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gui_helpers import login
from telora.core import clock
from telora.customers import services as s

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept")]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def contract(ann, system):
    return s.upload_customer_file(ann, SimpleUploadedFile("contract.pdf", PDF, content_type="application/pdf"),
                                  actor=system, at=clock.now())


@pytest.fixture
def bob(other_shop, system):
    """A customer of brand B with an account and a mobile line."""
    customer = s.create_customer(other_shop, actor=system, at=clock.now(), kind="private", last_name="Bower",
                                 email="bob@example.com")
    s.add_address(customer, actor=system, at=clock.now(), street1="High Street 1", postcode="SW1A 1AA",
                  city="London", roles=["legal", "billing"])
    account = s.create_billing_account(customer, actor=system, at=clock.now())
    s.create_subscription(customer, actor=system, at=clock.now(), billing_account=account,
                          service_type="mobile_postpaid", plan="MOB_POST_BASIC")
    return customer


def test_customers_are_in_the_menu_of_those_holding_the_area(make_user, shop):
    response = login(make_user("vic", {shop: VIEW}), shop).get(reverse("ui:home"))
    assert [area.code for area in response.context["menu"]] == ["customers"]
    assert f'href="{reverse("customers:customer_list")}"' in response.content.decode()


def test_anonymous_visitors_go_to_the_login_page(client, ann):
    response = client.get(reverse("customers:customer_detail", args=[ann.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("url_name", ["customers:customer_list", "customers:customer_create"])
def test_the_area_missing_in_the_active_brand_is_a_403(make_user, shop, other_shop, url_name):
    user = make_user("max", {shop: CSR, other_shop: ["audit.view"]})
    assert login(user, shop).get(reverse(url_name)).status_code == 200
    assert login(user, other_shop).get(reverse(url_name)).status_code == 403


def test_the_list_shows_the_active_brands_customers_only(make_user, ann, bob, shop, other_shop):
    user = make_user("max", {shop: VIEW, other_shop: VIEW})
    response = login(user, shop).get(reverse("customers:customer_list"))
    assert [c.number for c in response.context["object_list"]] == [ann.number]
    response = login(user, other_shop).get(reverse("customers:customer_list"))
    assert [c.number for c in response.context["object_list"]] == [bob.number]


def test_another_brands_objects_are_404s(make_user, system, shop, ann, mobile, contract, bob):
    client = login(make_user("cas", {shop: CSR}), shop)
    line = bob.subscriptions.get()
    account = bob.accounts.get()
    bob_file = s.upload_customer_file(bob, PDF, name="id.pdf", content_type="application/pdf",
                                      actor=system, at=clock.now())
    for url in [reverse("customers:customer_detail", args=[bob.pk]),
                reverse("customers:customer_detail", args=[bob.pk]) + "?tab=history",
                reverse("customers:customer_edit", args=[bob.pk]),
                reverse("customers:subscription_detail", args=[line.pk]),
                reverse("customers:subscription_create", args=[bob.pk]),
                reverse("customers:change_plan", args=[line.pk]),
                reverse("customers:terminate", args=[line.pk]),
                reverse("customers:account_detail", args=[account.pk]),
                reverse("customers:account_edit", args=[account.pk]),
                reverse("customers:address_edit", args=[bob.addresses.get().pk]),
                reverse("customers:file_download", args=[bob_file.pk])]:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("customers:suspend", args=[line.pk]), {"reason": "x"}).status_code == 404
    line.refresh_from_db()
    assert line.status == "active"
    # ... while the user's own brand opens
    assert client.get(reverse("customers:customer_detail", args=[ann.pk])).status_code == 200
    assert client.get(reverse("customers:subscription_detail", args=[mobile.pk])).status_code == 200


def test_a_file_downloads_through_the_rights_check(make_user, shop, contract):
    client = login(make_user("cas", {shop: VIEW}), shop)
    response = client.get(reverse("customers:file_download", args=[contract.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="contract.pdf"')
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_file_of_another_brand_or_without_the_area_is_not_served(make_user, shop, other_shop, contract):
    assert login(make_user("out", {other_shop: CSR}), other_shop).get(
        reverse("customers:file_download", args=[contract.pk])).status_code == 404
    assert login(make_user("aud", {shop: ["audit.view"]}), shop).get(
        reverse("customers:file_download", args=[contract.pk])).status_code == 404


def test_reading_users_see_no_buttons_and_get_403_on_writes(make_user, shop, ann, mobile):
    client = login(make_user("vic", {shop: VIEW}), shop)
    page = client.get(reverse("customers:customer_detail", args=[ann.pk])).content.decode()
    assert 'data-testid="add-subscription"' not in page and 'data-testid="edit-customer"' not in page
    line = client.get(reverse("customers:subscription_detail", args=[mobile.pk])).content.decode()
    assert 'data-testid="change-plan"' not in line
    for url in [reverse("customers:customer_edit", args=[ann.pk]),
                reverse("customers:subscription_create", args=[ann.pk]),
                reverse("customers:account_create", args=[ann.pk]),
                reverse("customers:file_upload", args=[ann.pk]),
                reverse("customers:change_plan", args=[mobile.pk]),
                reverse("customers:terminate", args=[mobile.pk])]:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("customers:suspend", args=[mobile.pk]), {"reason": "x"}).status_code == 403
    mobile.refresh_from_db()
    assert mobile.status == "active"


def test_global_search_links_to_the_customer_page(make_user, shop, ann):
    client = login(make_user("cas", {shop: VIEW}), shop)
    response = client.get(reverse("ui:search"), {"q": "de vries"})
    assert reverse("customers:customer_detail", args=[ann.pk]) in response.content.decode()
