"""Shared fixtures: the embedded (or DATABASE_URL) PostgreSQL, brands, roles and users."""

import datetime as dt
import os

import pytest

from telora.core import clock
from telora.core.services import Actor

PASSWORD = "correct-horse-battery-9"


def pytest_configure(config):
    # Without DATABASE_URL the tests run on the embedded PostgreSQL (its own test database).
    if not os.environ.get("DATABASE_URL"):
        from django.conf import settings

        from telora.core.embedded_db import ensure_running

        ensure_running(settings.EMBEDDED_PG_DIR, settings.EMBEDDED_PG_PORT)


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
def brand_a(make_brand):
    return make_brand("alpha", name="Alpha Mobile")


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
