"""A real Chromium starts a test run from the billing screens, follows it on the run's page (polled,
no reload) to its summary, and opens one of its invoices.

Uses Debian's Chromium through the `chromium_page` fixture (tests/conftest.py); skipped when it is
missing, unless TELORA_REQUIRE_BROWSER=1.
"""

import pytest

from browser_helpers import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_start_a_test_run_follow_it_and_open_an_invoice(live_server, chromium_page, plain_http_cookies, make_user,
                                                        nord, account_for, subscribe):
    from playwright.sync_api import expect

    from telora.billing.models import BillRun
    from telora.core.models import Job
    from telora.core.services.jobs import execute

    # two accounts with a Mobil Basis line from 2026-03-11: 33.19 + 49.00 net, VAT 20.55, total 102.74 each
    for name in ("Anna Berg", "Bo Dahl"):
        subscribe(account_for(name), "2026-03-11")
    make_user("finn", {nord: ["billing.view", "billing.change"]}, password=PASSWORD)
    page = chromium_page
    log_in(page, live_server, "finn")

    page.click("[data-testid=main-menu] [data-area=billing] a")
    page.click("[data-testid=start-run]")
    page.select_option("select[name=cycle]", "M01")
    page.fill("input[name=period]", "2026-03")
    page.click("[data-testid=submit]")

    progress = page.locator("[data-testid=run-progress]")
    expect(progress).to_have_attribute("data-status", "queued")
    run = BillRun.objects.get()
    execute(Job.objects.get(kind="billing.run", params={"run_id": run.pk}).pk)  # what a worker does
    expect(progress).to_have_attribute("data-status", "done", timeout=10_000)  # polled, no reload
    expect(page.locator("[data-testid=sum-invoices]")).to_have_text("2")
    expect(page.locator("[data-testid=sum-total]")).to_have_text("205.48")
    expect(page.locator("[data-testid=reconciliation]")).to_have_attribute("data-holds", "yes")

    page.click("[data-testid=run-invoices]")
    expect(page.locator("[data-testid=invoice-table] tbody tr")).to_have_count(2)
    page.locator("[data-testid=invoice-table] tbody tr a").first.click()
    expect(page.locator("[data-testid=invoice-total]")).to_have_text("DKK 102.74")
    expect(page.locator("[data-testid=invoice-lines] tr[data-kind=proration] [data-testid=line-amount]")).to_have_text(
        "33.19")
