"""A real Chromium uploads the reference cdrs.csv, follows its rating on the file's page (polled,
no reload) to the counts of the examples' README, opens the file's failed records and deletes the
unreadable line after confirming.

Uses Debian's Chromium through the `chromium_page` fixture (tests/conftest.py); skipped when it is
missing, unless TELORA_REQUIRE_BROWSER=1.
"""

import pytest
from rating_helpers import CDRS

from browser_helpers import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_rate_and_delete_a_failed_record(live_server, chromium_page, plain_http_cookies, make_user, nord,
                                                line_for):
    from playwright.sync_api import expect

    from telora.rating.models import FailedRecord, UsageFile
    from telora.rating.services import rate_pending

    line_for("4520000001")
    line_for("4520000002")
    make_user("rita", {nord: ["rating.view", "rating.change", "rating.delete_failed"]}, password=PASSWORD)
    page = chromium_page
    log_in(page, live_server, "rita")

    page.click("[data-testid=main-menu] [data-area=rating] a")
    page.click("[data-testid=upload]")
    page.select_option("select[name=format]", "csv")
    page.fill("input[name=source]", "nord-msc")
    page.set_input_files("input[name=file]", str(CDRS))
    page.click("[data-testid=submit]")

    progress = page.locator("[data-testid=file-progress]")
    expect(progress).to_have_attribute("data-status", "staged")
    expect(page.locator("[data-testid=count-read]")).to_have_text("12")
    rate_pending(nord)  # what the rating workers do
    expect(progress).to_have_attribute("data-status", "rated", timeout=10_000)  # polled, no reload
    expect(page.locator("[data-testid=count-rated]")).to_have_text("9")
    expect(page.locator("[data-testid=count-failed]")).to_have_text("2")
    expect(page.locator("[data-testid=count-duplicate]")).to_have_text("1")
    expect(page.locator("[data-testid=file-bar]")).to_have_attribute("data-percent", "100")

    page.click("[data-testid=file-failed-link]")
    table = page.locator("[data-testid=failed-table]")
    expect(table.locator("tbody tr")).to_have_count(3)
    unreadable = FailedRecord.objects.get(file=UsageFile.objects.get(), reason="PARSE_ERROR")
    page.check(f"[data-testid=choose-{unreadable.pk}]")
    page.click("[data-testid=bulk-delete]")
    expect(page.locator("[data-testid=confirm-count]")).to_contain_text("Delete 1 failed record?")
    page.click("[data-testid=confirm-delete-submit]")

    row = page.locator(f"[data-testid=failed-table] tr[data-record='{unreadable.pk}'] [data-status]")
    expect(row).to_have_attribute("data-status", "deleted")  # the file's list shows every status
    unreadable.refresh_from_db()
    assert unreadable.status == "deleted"
