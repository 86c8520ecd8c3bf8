"""A batch whose records straddle a plan change or a catalogue change: every record is rated on the
plan and the tariff in effect at its own start (needs the database)."""

import datetime as dt
from decimal import Decimal

import pytest
from rating_helpers import CATALOG

from telora.catalog.services.apply import apply_catalog
from telora.catalog.yamlio import load
from telora.core import clock
from telora.customers.services import change_plan
from telora.rating.models import RatedUsage, RatingBatch
from telora.rating.services import import_usage_file, rate_pending
from telora.rating.services.context import forget_tariffs

D = Decimal
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]
HEADER = "record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"


def _take(nord, system, lines: str):
    usage_file = import_usage_file(nord, (HEADER + lines).encode(), format="csv", source="msc", actor=system,
                                   at=clock.now(), name="day.csv")
    assert RatingBatch.objects.filter(file=usage_file).count() == 1  # one number, one batch: the cut is inside it
    rate_pending(nord)
    return {r.record_id: (r.charge, r.bundle_use) for r in RatedUsage.objects.filter(file_id=usage_file.pk)}


def test_records_after_a_plan_change_are_rated_on_the_new_plan(nord, line_for, system):
    forget_tariffs()
    line = line_for("4520000001")  # MOB_POST_BASIC: no bundles
    change_plan(line, "MOB_POST_10GB", actor=system, at=dt.datetime(2026, 10, 5, 10, 0, tzinfo=dt.UTC))
    rated = _take(nord, system,
                  "before,voice,4520000001,4533123456,2026-10-05T09:15:00+02:00,125,,,,\n"   # 07:15 UTC
                  "after,voice,4520000001,4533123456,2026-10-05T14:00:00+02:00,125,,,,\n")   # 12:00 UTC
    assert rated["before"] == (D("0.625000"), [])  # DK PEAK 0.30/60 s on [60, 1]: 125 s
    charge, uses = rated["after"]
    assert charge == D("0.000000") and [(u[1], u[4]) for u in uses] == [("DK_TALK_500", 125)]


def test_records_after_a_catalogue_change_are_rated_on_the_new_tariff(nord, line_for, system):
    line_for("4520000001")
    text = CATALOG.read_text().replace('{service: voice, zone: DK, band: PEAK, price: "0.30"',
                                       '{service: voice, zone: DK, band: PEAK, price: "0.60"')
    assert text != CATALOG.read_text()
    apply_catalog(load(text), actor=system, at=clock.now(), effective_from=dt.date(2026, 10, 6))
    forget_tariffs()
    rated = _take(nord, system,
                  "monday,voice,4520000001,4533123456,2026-10-05T09:15:00+02:00,125,,,,\n"
                  "tuesday,voice,4520000001,4533123456,2026-10-06T09:15:00+02:00,125,,,,\n")
    assert rated["monday"][0] == D("0.625000")
    assert rated["tuesday"][0] == D("1.250000")  # 0.60 a minute from 6 October
