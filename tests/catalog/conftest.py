"""Catalogue fixtures: the reference file (docs/examples/catalog.yaml) and applying it."""

import copy

import pytest
from catalog_helpers import DATA, DAY0

from telora.catalog import yamlio
from telora.catalog.services import apply_catalog
from telora.core import clock
from telora.core.models import Brand


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


@pytest.fixture
def nord(apply, reference):
    apply(reference, effective_from=DAY0)
    return Brand.objects.get(code="NORD")
