"""A pricing manager in a real Chromium adds a price agreement on the customer page, sees it in
effect with the name rated usage gives it, and ends it; a bad zone is refused with the reason.

Uses Debian's Chromium (not Playwright's download). Skipped when it is missing, unless
TELORA_REQUIRE_BROWSER=1 (as in CI), where a missing browser is a failure.
"""

import pytest

from browser_helpers import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_adding_and_ending_a_price_agreement(live_server, chromium_page, plain_http_cookies, make_user, ann):
    from playwright.sync_api import expect

    from telora.customers.models import PriceAgreement

    make_user("pricer", {ann.brand: ["customers.view", "customers.price_agreement"]}, password=PASSWORD)
    page = chromium_page
    log_in(page, live_server, "pricer")
    page.goto(f"{live_server.url}/customers/{ann.pk}/")
    form = page.locator("[data-testid=agreement-form]")
    form.locator("select[name=service]").select_option("voice")
    form.locator("input[name=zone]").fill("MARS")
    form.locator("input[name=percent]").fill("10")
    form.locator("[data-testid=agreement-add]").click()
    expect(page.locator("[data-testid=messages]")).to_contain_text("no zone 'MARS'")
    assert not PriceAgreement.objects.exists()

    form = page.locator("[data-testid=agreement-form]")
    form.locator("select[name=service]").select_option("voice")
    form.locator("input[name=zone]").fill("EU")
    form.locator("input[name=rate_plan]").fill("POST_STD")
    form.locator("input[name=price]").fill("0.45")
    form.locator("input[name=unit]").fill("60")
    form.locator("input[name=note]").fill("Frame contract 2026")
    form.locator("[data-testid=agreement-add]").click()
    expect(page.locator("[data-testid=messages]")).to_contain_text("Price agreement added")
    agreement = PriceAgreement.objects.get()
    row = page.locator(f"[data-testid=agreement-{agreement.pk}]")
    expect(row).to_contain_text("in effect")
    expect(row).to_contain_text(f"customer:{agreement.pk}")
    expect(row).to_contain_text("Frame contract 2026")

    row.locator(f"[data-testid=agreement-end-{agreement.pk}]").click()
    expect(page.locator("[data-testid=messages]")).to_contain_text("Price agreement ended")
    expect(page.locator(f"[data-testid=agreement-{agreement.pk}]")).to_contain_text("ended")
    agreement.refresh_from_db()
    assert agreement.valid_to is not None
