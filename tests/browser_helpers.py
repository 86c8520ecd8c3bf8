"""Shared by the browser tests (marked `browser`): a real Chromium, driven by Playwright, against the live server.

Uses Debian's Chromium (not Playwright's download). The `chromium_page` fixture (tests/conftest.py) skips a test
when it is missing, unless TELORA_REQUIRE_BROWSER=1 (as in CI), where a missing browser is a failure.
"""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "browser-test-secret-23"


def log_in(page, live_server, username, password=PASSWORD):
    """Log in through the login form of the live server."""
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[data-testid=login-submit]")
