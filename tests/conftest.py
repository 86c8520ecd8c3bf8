"""Shared fixtures: the embedded (or DATABASE_URL) PostgreSQL, brands, roles and users, and Chromium."""

import datetime as dt
import os

import pytest

from api_client import ApiClient
from browser_helpers import CHROMIUM, CHROMIUM_ARGS
from db_helpers import BRAND_A, drop_kept_data, forget_queued_jobs, kept_brand, kept_data_open
from telora.core import clock
from telora.core.services import Actor
from telora.core.services.users import create_api_key

PASSWORD = "correct-horse-battery-9"
TEST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


def pytest_configure(config):
    from django.conf import settings

    # Without DATABASE_URL the tests run on the embedded PostgreSQL (its own test database).
    if not os.environ.get("DATABASE_URL"):
        from telora.core.embedded_db import ensure_running

        ensure_running(settings.EMBEDDED_PG_DIR, settings.EMBEDDED_PG_PORT)
    # Argon2 as configured takes 100 MB and 0.1-0.5 s a hash; the suite makes thousands of users.
    # The tests hash with MD5 (the production hashers stay listed, so their hashes still verify);
    # tests/core/test_users_and_rights.py checks that production hashes with Argon2.
    settings.PASSWORD_HASHERS = [TEST_HASHER, *settings.PASSWORD_HASHERS]


def _transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return "transactional_db" in request.fixturenames or "live_server" in request.fixturenames or (
        marker is not None and bool(marker.kwargs.get("transaction")))


@pytest.fixture(autouse=True)
def _no_jobs_left_by_transactional_tests(request, django_db_blocker):
    yield
    if _transactional(request):
        with django_db_blocker.unblock():
            forget_queued_jobs()


@pytest.fixture(autouse=True)
def _no_transactional_test_inside_kept_data(request, django_db_blocker):
    """A module's kept data (db_helpers.kept_for_the_module) is an open transaction: a transactional
    test (a live server's threads, a subprocess) would not see it, and its flush would erase it.
    It is rolled back first; the module's later tests then build their own data."""
    if _transactional(request) and kept_data_open():
        with django_db_blocker.unblock():
            drop_kept_data()


@pytest.fixture(autouse=True)
def _no_cache_across_tests():
    """Caches keyed by a brand's id (its modules, its compiled tariff) would carry one test's changes
    into the next now that a module's tests share their kept brand (same id): start each test cold."""
    from telora.core import modules
    from telora.rating.services.context import forget_tariffs

    modules.forget()
    forget_tariffs()


@pytest.fixture
def system():
    """The actor for setup work done by the tests themselves (a job, not a person)."""
    return Actor.system("tests")


@pytest.fixture
def now():
    return clock.now()


@pytest.fixture
def make_brand(db, system):
    from telora.core.services.brands import create_brand

    def make(code="alpha", **values):
        defaults = dict(name=code.title(), currency="EUR", timezone="Europe/Amsterdam", country="NL", language="en")
        defaults.update(values)
        return create_brand(actor=system, at=clock.now(), code=code, **defaults)

    return make


@pytest.fixture
def brand_a(request, make_brand):
    """Alpha Mobile (EUR, NL); in a module with kept data (a fixture named *_kept), the kept one."""
    return kept_brand(request, "alpha") or make_brand(**BRAND_A)


@pytest.fixture
def brand_b(make_brand):
    return make_brand("bravo", name="Bravo Telecom", currency="GBP", timezone="Europe/London", country="GB")


@pytest.fixture
def make_role(db, system):
    from telora.core.services.users import create_role

    def make(name, permissions, brand=None):
        return create_role(actor=system, at=clock.now(), name=name, permissions=permissions, brand=brand)

    return make


@pytest.fixture
def make_user(db, system):
    """make_user("ann", {brand: [perm, ...]}) gives ann a role holding those permissions in each brand."""
    from telora.core.services.users import create_role, create_user

    counter = {"n": 0}

    def make(username, grants=None, *, superuser=False, password=PASSWORD, **values):
        pairs = []
        for brand, perms in (grants or {}).items():
            counter["n"] += 1
            role = create_role(actor=system, at=clock.now(), name=f"{username}-role-{counter['n']}",
                               permissions=perms, brand=brand)
            pairs.append((brand, role))
        return create_user(actor=system, at=clock.now(), username=username, password=password,
                           is_superuser=superuser, grants=pairs, email=f"{username}@example.test", **values)

    return make


@pytest.fixture
def admin_user(make_user):
    return make_user("root", superuser=True)


@pytest.fixture
def later():
    return clock.now() + dt.timedelta(seconds=1)


@pytest.fixture
def chromium_page(monkeypatch):
    """A page of Debian's Chromium driven by Playwright (see tests/browser_helpers.py).

    Skipped when Chromium is missing, unless TELORA_REQUIRE_BROWSER=1 (as in CI), where that is a failure.
    """
    if not CHROMIUM.exists():
        if os.environ.get("TELORA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"TELORA_REQUIRE_BROWSER=1 but {CHROMIUM} is missing: apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the fixtures are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
            # Connections opened while Playwright's loop ran belong to its context; close them
            # here, or the test database cannot be dropped at the end of the session.
            from django.db import connections

            connections.close_all()


@pytest.fixture
def plain_http_cookies(settings):
    """The live server speaks plain HTTP; secure-only cookies would never come back."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture
def api_for(make_user, system):
    """api_for({brand: [perms]}) -> an ApiClient holding a key of a fresh user with those rights."""
    counter = {"n": 0}

    def make(grants):
        counter["n"] += 1
        user = make_user(f"api-user-{counter['n']}", grants)
        perms = sorted({p for ps in grants.values() for p in ps})
        _key, token = create_api_key(actor=system, at=clock.now(), user=user, name="test", brands=list(grants),
                                     permissions=perms)
        return ApiClient(token)

    return make
