"""A CSR in a real Chromium: logs in, creates a customer, sells a mobile line with a SIM card and a
number from the inventory, and sees it active on the customer's page.

Uses Debian's Chromium (not Playwright's download). Skipped when it is missing, unless
TELORA_REQUIRE_BROWSER=1 (as in CI), where a missing browser is a failure.
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls of the fixtures are still sync.
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
            # Connections opened while Playwright's loop ran belong to its context; close them
            # here, or the test database cannot be dropped at the end of the session.
            from django.db import connections

            connections.close_all()


@pytest.fixture
def plain_http_cookies(settings):
    """The live server speaks plain HTTP; secure-only cookies would never come back."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


def test_a_csr_creates_a_customer_and_sells_a_mobile_line(live_server, chromium_page, plain_http_cookies,
                                                         make_user, shop):
    from playwright.sync_api import expect

    from telora.customers.models import Subscription

    make_user("csr", {shop: ["customers.view", "customers.change"]}, first_name="Cas", password=PASSWORD)
    page = chromium_page
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "csr")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")

    page.click("[data-testid=main-menu] [data-area=customers] a")
    page.click("[data-testid=new-customer]")
    page.fill("input[name=first_name]", "Lotte")
    page.fill("input[name=last_name]", "Bakker")
    page.fill("input[name=email]", "lotte@example.com")
    page.fill("input[name=phone]", "06 1234 5678")
    page.fill("input[name=street1]", "Molenweg 7")
    page.fill("input[name=postcode]", "9711 AB")
    page.fill("input[name=city]", "Groningen")
    page.click("[data-testid=submit]")

    expect(page.locator("[data-testid=customer-name]")).to_have_text("Lotte Bakker")
    expect(page.locator("[data-testid=messages]")).to_contain_text("created")

    page.click("[data-testid=add-subscription]")
    page.click("[data-testid=service-type-mobile_postpaid]")
    page.click("[data-testid=offer-MOB_POST_10GB]")
    page.click("[data-testid=offer-ROAM_EU_5GB]")
    expect(page.locator("[data-total=recurring]")).not_to_have_text("—")
    page.click("[data-testid=submit]")

    expect(page.locator("[data-testid=subscription-status]")).to_contain_text("Active")
    line = Subscription.objects.get(customer__last_name="Bakker")
    assert line.sim is not None and line.phone_number is not None
    expect(page.locator("[data-testid=line-iccid]")).to_have_text(line.sim.iccid)

    page.click("[data-testid=back-to-customer]")
    row = page.locator("[data-testid=subscription-row]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("Mobil 10 GB")
    expect(row).to_contain_text(line.sim.iccid)
    expect(page.locator("[data-testid=live-lines]")).to_have_text("1")

    page.click("[data-testid=tab-history]")  # tabs load through HTMX
    expect(page.locator("[data-testid=tab-pane-history] [data-action=create]").first).to_be_visible()
    assert page.url.endswith("?tab=history")
