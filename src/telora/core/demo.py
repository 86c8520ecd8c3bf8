"""The demo: two brands, platform roles and users to log in with. Loading it twice changes nothing.

Later apps add their demo data (catalogue, customers) by appending a loader to DEMO_LOADERS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from telora.core import clock, rights
from telora.core.models import Brand, BrandGrant, Role, User
from telora.core.services import Actor
from telora.core.services.brands import create_brand
from telora.core.services.sequences import configure_sequence
from telora.core.services.users import create_role, create_user, grant_role, update_role

DEMO_PASSWORD = "telora-demo"  # demo data only; `telora demo` says so when it prints the logins

DEMO_BRANDS = [
    dict(code="nordlink", name="Nordlink Mobile", currency="EUR", timezone="Europe/Amsterdam", country="NL",
         language="nl", primary_colour="#0a7d5a", secondary_colour="#0b2e24", customer_format="NL{number:06d}"),
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

DEMO_LOADERS: list[Callable[[Actor], None]] = []


def ensure_platform_roles(actor: Actor) -> dict[str, Role]:
    roles = {}
    for name, perms in platform_roles().items():
        role = Role.objects.filter(name=name, brand__isnull=True).first()
        if role is None:
            role = create_role(actor=actor, at=clock.now(), name=name, permissions=perms)
        elif sorted(role.permissions) != sorted(set(perms)):
            role = update_role(role, actor=actor, at=clock.now(), permissions=perms)
        roles[name] = role
    return roles


@transaction.atomic
def load_demo() -> list[DemoLogin]:
    actor = Actor.system("demo")
    brands = {}
    for spec in DEMO_BRANDS:
        spec = dict(spec)
        customer_format = spec.pop("customer_format")
        brand = Brand.objects.filter(code=spec["code"]).first()
        if brand is None:
            brand = create_brand(actor=actor, at=clock.now(), **spec)
            configure_sequence(brand, "customer", actor=actor, at=clock.now(), format=customer_format)
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
    for loader in DEMO_LOADERS:
        loader(actor)
    return logins
