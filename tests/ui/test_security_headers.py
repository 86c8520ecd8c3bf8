"""Security headers on GUI and API answers, and no inline script in any GUI page (the CSP forbids it)."""

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlparse

import pytest
from django.urls import reverse

from telora.core.demo import DEMO_PASSWORD, load_demo
from telora.customers import demo as customers_demo

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()}


def assert_headers(response):
    csp = directives(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'self'" and csp["form-action"] == "'self'"
    policy = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert f"{feature}=()" in policy
    assert "Server" not in response


def test_gui_pages_carry_the_policy(client, admin_user):
    assert_headers(client.get(reverse("login")))
    client.force_login(admin_user)
    assert_headers(client.get(reverse("ui:home")))
    assert_headers(client.get("/no-such-page/"))  # error pages too


def test_api_answers_carry_the_policy(client, admin_user):
    assert_headers(client.get("/api/v1/me"))  # 401
    client.force_login(admin_user)
    assert_headers(client.get("/api/openapi.json"))


def test_the_api_docs_page_is_under_the_same_policy(client, admin_user):
    """Swagger UI runs from its own files (tests/ui/test_security_browser.py shows it renders)."""
    client.force_login(admin_user)
    response = client.get("/api/docs")
    assert response.status_code == 200
    csp = directives(response)
    assert csp["script-src"] == "'self'" and csp["object-src"] == "'none'"
    assert response["Permissions-Policy"]


def test_the_policy_is_a_setting_and_can_be_report_only(client, settings):
    settings.TELORA_CSP = "default-src 'none'"
    settings.TELORA_CSP_REPORT_ONLY = True
    response = client.get(reverse("login"))
    assert response["Content-Security-Policy-Report-Only"] == "default-src 'none'"
    assert "Content-Security-Policy" not in response


class Inline(HTMLParser):
    """Collects inline scripts, event-handler attributes, javascript: links and same-site links."""

    def __init__(self):
        super().__init__()
        self.problems, self.links = [], []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "script" and not values.get("src") and values.get("type") not in ("application/json",):
            self.problems.append(f"<script> without src: {attrs}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value}>")
        for name in ("href", "hx-get"):  # links, and the parts HTMX loads (a customer's tabs)
            if values.get(name) and (tag == "a" or name == "hx-get"):
                self.links.append(values[name])


SKIP = re.compile(r"/(logout|static|media|api|tmf-api)/|download|/pdf|/export|/content|/preview|/logo")


def test_no_inline_script_in_any_page_reached_from_home(client, monkeypatch):
    """Crawls the demo as its administrator (every screen a menu or a row links to) and reads each page."""
    monkeypatch.setattr(customers_demo, "CUSTOMERS_PER_BRAND", 20)  # every kind of customer, not 250 of them
    monkeypatch.setattr(customers_demo, "STOCK", 60)
    load_demo()
    assert client.login(username="admin", password=DEMO_PASSWORD)
    seen, queue, pages = set(), deque([reverse("ui:home"), reverse("login")]), 0
    kinds = set()
    while queue and pages < 400:
        url = urldefrag(queue.popleft())[0]
        path = urlparse(url).path
        # one page per kind of address (/customers/12/ and /customers/13/ are the same screen)
        kind = re.sub(r"\d+", "N", path + "?" + urlparse(url).query)
        if url in seen or kind in kinds or SKIP.search(path) or urlparse(url).netloc:
            continue
        seen.add(url)
        kinds.add(kind)
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        pages += 1
        parser = Inline()
        parser.feed(response.content.decode())
        assert not parser.problems, (url, parser.problems)
        assert "'unsafe-inline'" not in directives(response)["script-src"]
        queue.extend(link for link in parser.links if link.startswith("/"))
    assert pages > 40, f"only {pages} pages were reached: {sorted(kinds)}"
