"""A real Chromium creates a product through the form: a refused amount comes back on its field
in the file's words, a row is added with the "Add a row" button, and the product's page shows
its price structure.

Uses Debian's Chromium like tests/ui/test_browser.py; skipped when it is missing, unless
TELORA_REQUIRE_BROWSER=1.
"""

import os
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "browser-test-secret-23"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chromium_page():
    if not CHROMIUM.exists():
        if os.environ.get("TELORA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"TELORA_REQUIRE_BROWSER=1 but {CHROMIUM} is missing: apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
            from django.db import connections

            connections.close_all()


@pytest.fixture
def plain_http_cookies(settings):
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


def test_create_a_product_through_the_form(live_server, chromium_page, plain_http_cookies, make_user, nord):
    from playwright.sync_api import expect

    from telora.catalog import models as m

    make_user("petra", {nord: ["catalog.view", "catalog.change"]}, password=PASSWORD)
    page = chromium_page
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "petra")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")

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
