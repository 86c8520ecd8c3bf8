"""The failed log's "choose all" box works under the Content-Security-Policy (a data-check-all attribute
read by telora.js, not an inline onclick handler, which the policy blocks)."""

import pytest
from rating_helpers import CDRS

from browser_helpers import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_choose_all_ticks_every_row(live_server, chromium_page, plain_http_cookies, make_user, nord, line_for,
                                    system):
    from playwright.sync_api import expect

    from telora.core import clock
    from telora.rating.services import import_usage_file, rate_pending

    line_for("4520000001")
    import_usage_file(nord, CDRS, format="csv", source="nord-msc", actor=system, at=clock.now(), defer=False)
    rate_pending(nord)
    make_user("rita", {nord: ["rating.view", "rating.change", "rating.rerate"]}, password=PASSWORD)
    page = chromium_page
    log_in(page, live_server, "rita")
    page.goto(f"{live_server.url}/rating/failed/")
    boxes = page.locator("[data-testid=failed-table] tbody input[name=ids]")
    expect(boxes).to_have_count(3)
    page.check("[data-check-all=ids]")
    for n in range(3):
        expect(boxes.nth(n)).to_be_checked()
    page.uncheck("[data-check-all=ids]")
    for n in range(3):
        expect(boxes.nth(n)).not_to_be_checked()
