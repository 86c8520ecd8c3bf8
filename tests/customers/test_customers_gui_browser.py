"""A CSR in a real Chromium: logs in, creates a customer, sells a mobile line with a SIM card and a
number from the inventory, and sees it active on the customer's page.

Uses Debian's Chromium (not Playwright's download). Skipped when it is missing, unless
TELORA_REQUIRE_BROWSER=1 (as in CI), where a missing browser is a failure.
"""

import pytest

from browser_helpers import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_csr_creates_a_customer_and_sells_a_mobile_line(live_server, chromium_page, plain_http_cookies,
                                                         make_user, shop):
    from playwright.sync_api import expect

    from telora.customers.models import Subscription

    make_user("csr", {shop: ["customers.view", "customers.change"]}, first_name="Cas", password=PASSWORD)
    page = chromium_page
    log_in(page, live_server, "csr")

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
