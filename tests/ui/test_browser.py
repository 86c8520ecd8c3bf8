"""A real Chromium logs in, switches brand in the header and sees the menu change.

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


def test_login_switch_brand_and_see_the_menu_change(live_server, chromium_page, plain_http_cookies,
                                                    make_user, brand_a, brand_b):
    from playwright.sync_api import expect

    make_user("csr", {brand_a: ["audit.view"], brand_b: ["users.view"]}, first_name="Cas", password=PASSWORD)
    page = chromium_page

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "csr")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")

    menu = page.locator("[data-testid=main-menu] [data-area]")
    expect(page.locator("[data-testid=active-brand-name]")).to_have_text("Alpha Mobile")
    expect(menu).to_have_count(1)
    expect(menu.first).to_have_attribute("data-area", "audit")

    page.click("[data-testid=brand-switcher]")
    page.click("[data-testid=switch-to-bravo]")

    expect(page.locator("[data-testid=active-brand-name]")).to_have_text("Bravo Telecom")
    expect(menu).to_have_count(1)
    expect(menu.first).to_have_attribute("data-area", "users")

    page.click("[data-testid=main-menu] [data-area=users] a")
    expect(page.locator("[data-testid=user-table]")).to_contain_text("csr")


def test_search_dropdown_as_one_types(live_server, chromium_page, plain_http_cookies, make_user, brand_b):
    from playwright.sync_api import expect

    make_user("boss", {brand_b: ["users.view", "users.change", "users.grant"]}, password=PASSWORD)
    make_user("bob", {brand_b: ["users.view"]}, first_name="Bob", last_name="Marsh")
    page = chromium_page
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")

    page.fill("[data-testid=search-input-top]", "marsh")
    dropdown = page.locator("[data-testid=search-results-top]")
    expect(dropdown).to_contain_text("Bob Marsh (bob)")
    dropdown.get_by_text("Bob Marsh (bob)").click()
    expect(page.locator("[data-testid=user-email]")).to_have_text("bob@example.test")
