"""A real Chromium uploads a SIM card CSV and follows the import: the page polls while the job
waits and runs, then shows the report with the refused line's number; the list filters live.

Uses Debian's Chromium through the `chromium_page` fixture (tests/conftest.py); skipped when it is
missing, unless TELORA_REQUIRE_BROWSER=1.
"""

import pytest

from browser_helpers import PASSWORD, log_in

from .factories import SIM_HEADER, make_iccid, sim_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_upload_a_sim_csv_and_follow_it(live_server, chromium_page, plain_http_cookies, media_root, make_user,
                                        brand_a, write_csv):
    from playwright.sync_api import expect

    from telora.core.models import Job
    from telora.core.services.jobs import execute

    make_user("ian", {brand_a: ["inventory.view", "inventory.import"]}, password=PASSWORD)
    bad = make_iccid(2)[:-1] + str((int(make_iccid(2)[-1]) + 1) % 10)
    path = write_csv("delivery.csv", SIM_HEADER, [sim_row(1), sim_row(2, iccid=bad), sim_row(3)])
    page = chromium_page
    log_in(page, live_server, "ian")

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
