"""Migration fixtures: the demo brand "nordlink" as the demo tells it (Denmark, DKK, +45) with the
demo catalogue, and the sample base of docs/examples/migration."""

import datetime as dt
import shutil
from pathlib import Path

import pytest

from db_helpers import kept_brand, kept_for_the_module
from telora.catalog.services.apply import apply_catalog
from telora.catalog.yamlio import load
from telora.core import clock
from telora.core.services import Actor
from telora.core.services.brands import create_brand
from telora.customers.demo import CATALOG

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "migration"


def sample_files(folder: Path = SAMPLE) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(folder.glob("*.csv"))]


def with_catalogue(brand, actor):
    data = load(CATALOG.read_text())
    data["brand"] = {"code": brand.code, "name": brand.name, "currency": brand.currency, "timezone": brand.timezone,
                     "country": brand.country, "language": brand.language}
    apply_catalog(data, actor=actor, at=clock.now(), effective_from=dt.date(2019, 1, 1))
    return brand


NORDLINK = dict(code="nordlink", name="Nordlink Mobile", currency="DKK", timezone="Europe/Copenhagen", country="DK",
                language="da")


@pytest.fixture(scope="module")
def nordlink_kept(django_db_setup, django_db_blocker):
    """nordlink with the demo catalogue, built once for a module that asks for it (pytestmark
    usefixtures("nordlink_kept")); each test rolls back to it (db_helpers.kept_for_the_module)."""
    with kept_for_the_module(django_db_blocker):
        actor = Actor.system("tests")
        yield with_catalogue(create_brand(actor=actor, at=clock.now(), **NORDLINK), actor)


@pytest.fixture
def nordlink(request, make_brand, system):
    return kept_brand(request, "nordlink") or with_catalogue(make_brand(**NORDLINK), system)


@pytest.fixture
def sample_dir(tmp_path):
    """A copy of the sample base to spoil."""
    target = tmp_path / "base"
    shutil.copytree(SAMPLE, target)
    return target


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Uploaded files go to a folder of the test."""
    settings.MEDIA_ROOT = tmp_path / "media"
