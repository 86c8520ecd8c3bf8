"""Pure fixtures for the rating tests: no database."""

from __future__ import annotations

import pytest
from rating_helpers import reference_tariff

from telora.rating.engine import Rater


@pytest.fixture(scope="session")
def reference():
    """The reference catalogue (../shared/examples/catalog.yaml) as a compiled tariff."""
    return reference_tariff()


@pytest.fixture
def reference_rater(reference):
    return Rater(reference, home_country="DK")
