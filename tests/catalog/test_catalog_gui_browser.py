"""A real Chromium creates a product through the form: a refused amount comes back on its field
in the file's words, a row is added with the "Add a row" button, and the product's page shows
its price structure.

Uses Debian's Chromium through the `chromium_page` fixture (tests/conftest.py); skipped when it is
missing, unless TELORA_REQUIRE_BROWSER=1.
"""

import pytest

from browser_helpers import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_a_product_through_the_form(live_server, chromium_page, plain_http_cookies, make_user, nord):
    from playwright.sync_api import expect

    from telora.catalog import models as m

    make_user("petra", {nord: ["catalog.view", "catalog.change"]}, password=PASSWORD)
    page = chromium_page
    log_in(page, live_server, "petra")

    page.click("[data-testid=main-menu] [data-area=catalog] a")
    page.click("[data-testid=new-product]")
    page.fill("input[name=code]", "ROAM_WORLD")
    page.fill("input[name=name]", "World roaming")
    page.select_option("select[name=kind]", "addon")
    page.fill("input[name=recurring]", "19,00")
    page.check("input[name=bundles][value=EU_ROAM_5GB]")
    page.fill("input[name='one_time-0-code']", "ACTIVATION")
    page.fill("input[name='one_time-0-name']", "Activation fee")
    page.fill("input[name='one_time-0-price']", "5")
    page.click("[data-add-row=one_time]")
    page.fill("input[name='one_time-1-code']", "SETUP")
    page.fill("input[name='one_time-1-name']", "Set-up fee")
    page.fill("input[name='one_time-1-price']", "2.50")
    page.check("input[name=requires_any][value=MOB_POST_10GB]")
    page.click("[data-testid=submit]")

    expect(page.locator("input[name=recurring] ~ .invalid-feedback")).to_have_text(
        "bad decimal '19,00' (write digits with an optional '.', e.g. \"0.30\")")
    expect(page.locator("input[name='one_time-1-code']")).to_have_value("SETUP")  # the rows came back
    page.fill("input[name=recurring]", "19.00")
    page.click("[data-testid=submit]")

    expect(page.locator(".page-title")).to_contain_text("World roaming")
    structure = page.locator("[data-testid=price-structure]")
    expect(structure.locator("[data-charge=recurring] [data-testid=price-now]")).to_contain_text("19.00")
    expect(structure.locator("[data-charge=SETUP]")).to_contain_text("2.50")
    expect(page.locator("[data-testid=bundles]")).to_contain_text("EU_ROAM_5GB")
    expect(page.locator("[data-testid=rules]")).to_contain_text("MOB_POST_10GB")
    product = m.Product.objects.get(brand=nord, code="ROAM_WORLD")
    assert sorted(product.charges.values_list("code", flat=True)) == ["ACTIVATION", "SETUP", "recurring"]
