"""Export and apply are inverse: reference → apply → export → apply (empty database) → export
gives the same bytes, and the export means the same catalogue as the reference file."""

import datetime as dt

from catalog_helpers import DAY0, wipe

from telora.catalog import yamlio
from telora.catalog.export import export_yaml, format_amount, format_percent
from telora.catalog.schema.document import Baseline, clean_document
from telora.core.models import Brand


def _specs(data):
    document, errors = clean_document(data, lambda code: Baseline(other_brands=set()))
    assert not errors, errors.lines()
    return document.brand, {k: v for k, v in document.sections.items() if v}


def test_export_applied_to_an_empty_database_exports_identically(apply, reference, nord):
    day = dt.date(2026, 2, 1)
    first = export_yaml(nord, day)
    wipe()
    assert not Brand.objects.exists()
    result = apply(yamlio.load(first), effective_from=day)
    assert result.counts()["create"] == 28
    second = export_yaml(Brand.objects.get(code="NORD"), day)
    assert second == first
    assert apply(yamlio.load(second), effective_from=day).changes == []


def test_the_export_means_the_same_catalogue_as_the_reference(reference, nord):
    exported = yamlio.load(export_yaml(nord, DAY0))
    brand, sections = _specs(exported)
    ref_brand, ref_sections = _specs(reference)
    assert sections == ref_sections
    assert {k: v for k, v in brand.items() if v is not None} == {k: v for k, v in ref_brand.items() if v is not None}


def test_amounts_keep_the_places_they_were_written_with(nord):
    text = export_yaml(nord, DAY0)
    for written in ('recurring: "149.00"', 'price: "0.30"', 'setup: "0.10"', 'minimum: "4.95"', 'percent: "25"',
                    'countries: [DE, ES, FI, FR, IT, NL, "NO", PL, SE]', 'from: "08:00"'):
        assert written in text


def test_amount_formatting_is_canonical():
    from decimal import Decimal

    assert format_amount(Decimal("149.000000"), 2) == "149.00"
    assert format_amount(Decimal("0.035"), 2) == "0.035"
    assert format_amount(Decimal("100"), 0) == "100"
    assert format_amount(Decimal("0.1"), 2) == "0.10"
    assert format_percent(Decimal("12.500000")) == "12.5"
    assert format_percent(Decimal("100")) == "100"


def test_export_at_a_date_before_the_catalogue_is_empty(nord):
    data = yamlio.load(export_yaml(nord, DAY0 - dt.timedelta(days=1)))
    assert data["products"] == [] and data["brand"]["code"] == "NORD"
