"""A real Chromium logs in, switches brand in the header and sees the menu change.

Uses Debian's Chromium (not Playwright's download). Skipped when it is missing, unless
TELORA_REQUIRE_BROWSER=1 (as in CI), where a missing browser is a failure.
"""

import pytest

from browser_helpers import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_switch_brand_and_see_the_menu_change(live_server, chromium_page, plain_http_cookies,
                                                    make_user, brand_a, brand_b):
    from playwright.sync_api import expect

    make_user("csr", {brand_a: ["audit.view"], brand_b: ["users.view"]}, first_name="Cas", password=PASSWORD)
    page = chromium_page

    log_in(page, live_server, "csr")

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
    log_in(page, live_server, "boss")

    page.fill("[data-testid=search-input-top]", "marsh")
    dropdown = page.locator("[data-testid=search-results-top]")
    expect(dropdown).to_contain_text("Bob Marsh (bob)")
    dropdown.get_by_text("Bob Marsh (bob)").click()
    expect(page.locator("[data-testid=user-email]")).to_have_text("bob@example.test")
