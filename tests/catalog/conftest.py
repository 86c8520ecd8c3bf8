"""Catalogue fixtures: the reference file (docs/examples/catalog.yaml) and applying it."""

import copy

import pytest
from catalog_helpers import DATA, DAY0

from db_helpers import kept_for_the_module, uses_kept
from telora.catalog import yamlio
from telora.catalog.services import apply_catalog
from telora.core import clock
from telora.core.models import Brand
from telora.core.services import Actor


@pytest.fixture
def reference_text():
    return (DATA / "catalog.yaml").read_text(encoding="utf-8")


@pytest.fixture
def reference(reference_text):
    return yamlio.load(reference_text)


@pytest.fixture
def apply(db, system):
    """apply(data, **options): apply a parsed file as the system actor (data is copied first)."""

    def run(data, **options):
        return apply_catalog(copy.deepcopy(data), actor=system, at=clock.now(), **options)

    return run


@pytest.fixture(scope="module")
def nord_kept(django_db_setup, django_db_blocker):
    """NORD with the reference catalogue, applied once for a module that asks for it (pytestmark
    usefixtures("nord_kept")); each test rolls back to it (db_helpers.kept_for_the_module)."""
    with kept_for_the_module(django_db_blocker):
        data = yamlio.load((DATA / "catalog.yaml").read_text(encoding="utf-8"))
        apply_catalog(data, actor=Actor.system("tests"), at=clock.now(), effective_from=DAY0)
        yield Brand.objects.get(code="NORD")


@pytest.fixture
def nord(request, apply, reference):
    if not uses_kept(request, "nord_kept"):
        apply(reference, effective_from=DAY0)
    return Brand.objects.get(code="NORD")
