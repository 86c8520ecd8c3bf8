"""The demo's usage: per demo brand a canonical CSV file a month (three whole months and the current
one) taken in and rated by the pipeline, at home in the brand's home zones and currency, a few
failures in the failed log, prepaid lines topped up; loading twice adds nothing."""

import datetime as dt

import phonenumbers
import pytest
import time_machine

from telora.core import clock
from telora.core import demo as core_demo
from telora.core.models import AuditEvent, Brand
from telora.customers import demo as customers_demo
from telora.customers.models import Subscription
from telora.rating import demo
from telora.rating.engine import UsageRecord
from telora.rating.models import FailedRecord, PrepaidBalanceEntry, RatedUsage, UsageFile
from telora.rating.services import import_usage_records, rate_pending

pytestmark = pytest.mark.django_db
MOMENT = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
LANDLINES = {"DK": "4533123456", "GB": "442079460123"}  # a fixed line at home: Copenhagen, London


@pytest.fixture
def usage_demo(monkeypatch):
    monkeypatch.setattr(customers_demo, "CUSTOMERS_PER_BRAND", 16)
    monkeypatch.setattr(core_demo, "DEMO_LOADERS", [customers_demo.load_customers_demo, demo.load_usage_demo])
    with time_machine.travel(MOMENT, tick=True):
        core_demo.load_demo()
        yield


def test_the_usage_loader_runs_after_the_customers():
    loaders = core_demo.DEMO_LOADERS
    assert loaders.index(customers_demo.load_customers_demo) < loaders.index(demo.load_usage_demo)


def test_demo_usage_history(usage_demo):
    for brand in Brand.objects.all():
        files = UsageFile.objects.filter(brand=brand, source=demo.SOURCE)
        assert sorted(files.values_list("name", flat=True)) == [
            f"{brand.code}-usage-2026-{month:02d}.csv" for month in (9, 10, 11, 12)]
        assert set(files.values_list("status", flat=True)) == {"rated"}
        rated = RatedUsage.objects.filter(brand=brand)
        assert rated.count() == sum(files.values_list("rated", flat=True))
        assert {r.start_time.astimezone(dt.UTC).month for r in rated} == {9, 10, 11, 12}
        assert rated.filter(start_time__lt=clock.now()).count() == rated.count()
        assert set(rated.values_list("currency", flat=True)) == {brand.currency}
        # at home: data in HOME, calls to the country's numbers in its zones (DK, DK_MOBILE, ...)
        code = str(phonenumbers.country_code_for_region(brand.country))
        data = list(rated.filter(service="data").values_list("location", "zone"))
        assert data and all((zone == "HOME") == (location == brand.country) for location, zone in data)
        assert {zone for location, zone in data if location != brand.country} == {"EU_ROAM"}
        calls = list(rated.filter(service="voice").values_list("b_number", "zone"))
        assert all(zone.startswith(brand.country) == number.startswith(code) for number, zone in calls)
        assert {zone for _n, zone in calls} >= {brand.country, f"{brand.country}_MOBILE"}
        failed = FailedRecord.objects.filter(brand=brand)
        assert set(failed.values_list("reason", flat=True)) == {"UNKNOWN_SUBSCRIBER", "PARSE_ERROR", "DUPLICATE"}
        assert PrepaidBalanceEntry.objects.filter(subscription__brand=brand, cause="topup").exists()
        assert rated.filter(balance_after__isnull=False).exists()  # prepaid records drew on their balance
    counts = (UsageFile.objects.count(), RatedUsage.objects.count(), FailedRecord.objects.count(),
              PrepaidBalanceEntry.objects.count(), AuditEvent.objects.count())
    with time_machine.travel(MOMENT + dt.timedelta(minutes=5), tick=True):
        core_demo.load_demo()
    assert (UsageFile.objects.count(), RatedUsage.objects.count(), FailedRecord.objects.count(),
            PrepaidBalanceEntry.objects.count(), AuditEvent.objects.count()) == counts


def test_a_home_call_and_home_data_of_a_demo_line_rate_at_home(usage_demo, system):
    for brand in Brand.objects.all():
        line = Subscription.objects.filter(brand=brand, service_type="mobile_postpaid", status="active").first()
        at = clock.now() - dt.timedelta(hours=1)
        records = [UsageRecord("home-call", "voice", line.identifier, LANDLINES[brand.country], at, duration=60),
                   UsageRecord("home-data", "data", line.identifier, "", at, volume=1 << 20, location=brand.country)]
        import_usage_records(brand, records, source="test", actor=system, at=clock.now(), defer=False)
        rate_pending(brand)
        rows = RatedUsage.objects.filter(brand=brand, source="test")
        assert sorted(rows.values_list("service", "zone", "currency", "subscription_id")) == [
            ("data", "HOME", brand.currency, line.pk), ("voice", brand.country, brand.currency, line.pk)]
