"""The demo: two brands, platform roles and users to log in with. Loading it twice changes nothing.

Each brand tells one story: Nordlink Mobile is a Danish MVNO (DKK, Europe/Copenhagen, da, +45
numbers), Bluewave Telecom a British operator (GBP, Europe/London, en, +44 7 numbers); their
catalogues (customers/demo_data) carry the same brand block. Later apps add their demo data
(catalogue and customers, usage, bill runs, orders and desks) by appending a loader to DEMO_LOADERS,
and the roles and logins of their people to DEMO_ROLES and DEMO_USERS; core imports none of them.
A loader is called as `loader(actor, report)` and says what it does through `report`.
Apps that talk to an outside party add the simulator `telora demo` runs beside the server to
DEMO_COMPANIONS (the letters app: a mail catcher and an SMS centre).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction

from telora.core import clock, rights
from telora.core.models import Brand, BrandGrant, Role, User
from telora.core.services import Actor
from telora.core.services.brands import create_brand
from telora.core.services.sequences import configure_sequence
from telora.core.services.users import create_role, create_user, grant_role, update_role

DEMO_PASSWORD = "telora-demo"  # demo data only; `telora demo` says so when it prints the logins

DEMO_BRANDS = [
    dict(code="nordlink", name="Nordlink Mobile", currency="DKK", timezone="Europe/Copenhagen", country="DK",
         language="da", primary_colour="#0a7d5a", secondary_colour="#0b2e24", customer_format="NM-{number:07d}"),
    dict(code="bluewave", name="Bluewave Telecom", currency="GBP", timezone="Europe/London", country="GB",
         language="en", primary_colour="#1d4ed8", secondary_colour="#0f172a", customer_format="BW-{number:07d}"),
]


def platform_roles() -> dict[str, list[str]]:
    """The roles every installation starts with; 'Brand administrator' holds every brand-level right."""
    brand_level = [p for a in rights.areas() if not a.admin_only for p in a.permissions()]
    return {
        "Brand administrator": brand_level,
        "User manager": ["users.view", "users.change", "users.grant"],
        "Auditor": ["audit.view", "jobs.view"],
        "Read only": [p for a in rights.areas() if not a.admin_only for p in [f"{a.code}.view"]],
    }


@dataclass
class DemoLogin:
    username: str
    password: str
    description: str


DEMO_USERS = [
    ("admin", True, [], "system administrator: every brand, brands and platform roles"),
    ("nordlink-admin", False, [("nordlink", "Brand administrator")], "partner administrator of Nordlink Mobile"),
    ("bluewave-admin", False, [("bluewave", "Brand administrator")], "partner administrator of Bluewave Telecom"),
    ("csr", False, [("nordlink", "Auditor"), ("bluewave", "User manager")],
     "works in both brands: audit in Nordlink, users in Bluewave (switch brand to see the menu change)"),
]

# Roles the demo people of higher apps need (name -> permissions), made as platform roles beside
# platform_roles(); a loader's register() adds its own and its logins to DEMO_USERS (core imports none).
DEMO_ROLES: dict[str, list[str]] = {}


class DemoReport:
    """What the loaders say while they work: silent here (tests); `telora demo` shows a progress
    bar per step and prints the notes."""

    def step(self, label: str, total: int) -> None:
        """A new step of `total` units of work starts (its bar replaces the previous step's)."""

    def advance(self, units: int = 1) -> None:
        """`units` more of the current step are done."""

    def note(self, text: str) -> None:
        """A line worth keeping (what a step loaded)."""


DEMO_LOADERS: list[Callable[[Actor, DemoReport], None]] = []


@dataclass
class DemoCompanion:
    """A process `telora demo` runs beside the web server and the worker: the simulator of an outside
    party (a mail server, an SMS centre). It is ready when `port` accepts connections on 127.0.0.1;
    `env` is what the server and the worker need to use it (settings read from the environment)."""

    name: str
    argv: list[str]  # arguments of `telora` (the same interpreter runs them)
    port: int
    description: str
    env: dict[str, str] = field(default_factory=dict)


# Each is called with the installation's var/ folder and returns the companion to run.
DEMO_COMPANIONS: list[Callable[[Path], DemoCompanion]] = []


def free_port(preferred: int) -> int:
    """`preferred` when nothing listens on it on 127.0.0.1, else a free port the system hands out."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            pass
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_platform_roles(actor: Actor) -> dict[str, Role]:
    roles = {}
    for name, perms in {**platform_roles(), **DEMO_ROLES}.items():
        role = Role.objects.filter(name=name, brand__isnull=True).first()
        if role is None:
            role = create_role(actor=actor, at=clock.now(), name=name, permissions=perms)
        elif sorted(role.permissions) != sorted(set(perms)):
            role = update_role(role, actor=actor, at=clock.now(), permissions=perms)
        roles[name] = role
    return roles


@contextlib.contextmanager
def _quick_commits() -> Iterator[None]:
    """The demo commits thousands of small transactions (every customer, top-up and batch on its
    own, so that a stopped load resumes where it was): they need not wait for the disk. A crash in
    that instant loses the last commits, which the next load makes again."""
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def load_demo(report: DemoReport | None = None) -> list[DemoLogin]:
    """Brands, roles and users in one transaction, then each registered loader in turn."""
    report = report or DemoReport()
    actor = Actor.system("demo")
    with _quick_commits():
        logins = _brands_and_users(actor)
        for loader in DEMO_LOADERS:
            loader(actor, report)
    return logins


@transaction.atomic
def _brands_and_users(actor: Actor) -> list[DemoLogin]:
    brands = {}
    for spec in DEMO_BRANDS:
        spec = dict(spec)
        customer_format = spec.pop("customer_format")
        brand = Brand.objects.filter(code=spec["code"]).first()
        if brand is None:
            brand = create_brand(actor=actor, at=clock.now(), **spec)
            configure_sequence(brand, "customer", actor=actor, at=clock.now(), format=customer_format)
            # Order numbers keep counting across years: the demo's history is loaded customer by customer,
            # so its orders do not come in time order and a yearly restart would hand out a number twice.
            configure_sequence(brand, "order", actor=actor, at=clock.now(), format="O{year}{number:06d}")
        brands[brand.code] = brand
    roles = ensure_platform_roles(actor)
    logins = []
    for username, superuser, grants, description in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = create_user(actor=actor, at=clock.now(), username=username, password=DEMO_PASSWORD,
                               is_superuser=superuser, email=f"{username}@example.com",
                               grants=[(brands[b], roles[r]) for b, r in grants])
        else:
            for brand_code, role_name in grants:
                if not BrandGrant.objects.filter(user=user, brand=brands[brand_code], role=roles[role_name]).exists():
                    grant_role(user, brands[brand_code], roles[role_name], actor=actor, at=clock.now())
        logins.append(DemoLogin(username, DEMO_PASSWORD, description))
    return logins
