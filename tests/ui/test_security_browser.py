"""The Content-Security-Policy breaks nothing in a real Chromium: no violation on the main screens or the
API docs, HTMX still swaps, and the behaviours moved out of inline handlers (confirm, choose all) work."""

import pytest

from browser_helpers import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Collected in the page before any of its own scripts run (an init script is not subject to the CSP).
WATCH = """window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});"""

SCREENS = ["/", "/customers/", "/catalog/", "/catalog/products/", "/inventory/", "/billing/", "/billing/invoices/",
           "/rating/failed/", "/audit/", "/api-keys/", "/users/"]


def watched(page):
    messages = []
    page.add_init_script(WATCH)
    page.on("console", lambda msg: messages.append(msg.text) if msg.type in ("error", "warning") else None)
    return messages


def violations(page, messages) -> list[str]:
    found = list(page.evaluate("window.__csp || []"))
    return found + [text for text in messages if "Content Security Policy" in text or "Content-Security-Policy" in text]


def test_main_screens_and_api_docs_run_without_a_policy_violation(live_server, chromium_page, plain_http_cookies,
                                                                   make_user, brand_a):
    from playwright.sync_api import expect

    make_user("root", superuser=True, password=PASSWORD)
    page = chromium_page
    messages = watched(page)
    log_in(page, live_server, "root")
    for path in SCREENS:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        assert violations(page, messages) == [], path

    # HTMX still works under the policy: the search box swaps its results in
    page.goto(f"{live_server.url}/")
    page.fill("[data-testid=search-input-top]", "root")
    expect(page.locator("[data-testid=search-results-top]")).to_contain_text("root")
    assert violations(page, messages) == []

    # the Swagger page renders the operations from its own files
    page.goto(f"{live_server.url}/api/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=20000)
    assert violations(page, messages) == []


def test_confirm_and_choose_all_work_without_inline_handlers(live_server, chromium_page, plain_http_cookies,
                                                             make_user, brand_a, system):
    from playwright.sync_api import expect

    from telora.core import clock
    from telora.core.models import ApiKey
    from telora.core.services import Actor
    from telora.core.services.users import create_api_key

    ann = make_user("ann", {brand_a: ["users.view"]}, password=PASSWORD)
    key, _ = create_api_key(actor=Actor(user=ann), at=clock.now(), user=ann, name="erp", brands=[brand_a],
                            permissions=["users.view"])
    page = chromium_page
    messages = watched(page)
    log_in(page, live_server, "ann")
    page.goto(f"{live_server.url}/api-keys/")
    asked = []

    def answer(dialog, accept):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    page.click(f"[data-testid=revoke-{key.key_id}]")
    assert asked == ["Revoke this key? Programs using it stop working."]
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None  # dismissed: nothing was sent

    page.once("dialog", lambda dialog: answer(dialog, True))
    page.click(f"[data-testid=revoke-{key.key_id}]")
    expect(page.locator("table")).to_contain_text("Revoked")
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert violations(page, messages) == []
