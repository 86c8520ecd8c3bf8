"""A real Chromium uploads a SIM card CSV and follows the import: the page polls while the job
waits and runs, then shows the report with the refused line's number; the list filters live.

Uses Debian's Chromium like tests/ui/test_browser.py; skipped when it is missing, unless
TELORA_REQUIRE_BROWSER=1.
"""

import os
from pathlib import Path

import pytest

from .factories import SIM_HEADER, make_iccid, sim_row

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
def plain_http_cookies(settings, tmp_path):
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.MEDIA_ROOT = tmp_path / "media"


def test_upload_a_sim_csv_and_follow_it(live_server, chromium_page, plain_http_cookies, make_user, brand_a,
                                        write_csv):
    from playwright.sync_api import expect

    from telora.core.models import Job
    from telora.core.services.jobs import execute

    make_user("ian", {brand_a: ["inventory.view", "inventory.import"]}, password=PASSWORD)
    bad = make_iccid(2)[:-1] + str((int(make_iccid(2)[-1]) + 1) % 10)
    path = write_csv("delivery.csv", SIM_HEADER, [sim_row(1), sim_row(2, iccid=bad), sim_row(3)])
    page = chromium_page
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "ian")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")

    page.click("[data-testid=main-menu] [data-area=inventory] a")
    page.click("[data-testid=upload]")
    page.set_input_files("input[name=file]", str(path))
    page.click("[data-testid=submit]")

    progress = page.locator("[data-testid=import-progress]")
    expect(progress).to_have_attribute("data-status", "queued")
    execute(Job.objects.get(kind="inventory_import").pk)  # what a worker does
    expect(progress).to_have_attribute("data-status", "succeeded", timeout=10_000)  # polled, no reload
    expect(page.locator("[data-testid=rows-imported]")).to_have_text("2")
    expect(page.locator("[data-testid=import-errors]")).to_contain_text("line 3: iccid: Luhn check digit is wrong")

    page.click("[data-testid=inventory-nav] >> text=SIM cards")
    page.fill("[data-testid=sim-filters] input[name=q]", make_iccid(3)[-6:])
    expect(page.locator("[data-testid=sim-table] tbody tr")).to_have_count(1)  # filtered as one types
    expect(page.locator("[data-testid=sim-table]")).to_contain_text(make_iccid(3))
