"""Shared by the catalogue tests: the reference data folder, a start date, and wiping the
database back to empty (inside the test's transaction)."""

import datetime as dt
from pathlib import Path

from telora.catalog import models as m
from telora.core.models import AuditEvent, Brand

DATA = Path(__file__).resolve().parents[2] / "docs" / "examples"  # the reference files, kept in the repo
DAY0 = dt.date(2026, 1, 1)  # the reference catalogue starts here in most tests

# Children before parents, so PROTECT references never block.
WIPE_ORDER = [
    m.RateOverride, m.PriceListItem, m.PriceList, m.DiscountProduct, m.DiscountZone, m.Discount, m.ProductRuleTarget,
    m.ProductRule, m.ProductBundle, m.ProductPrice, m.ProductCharge, m.Product, m.AllowanceZone, m.Allowance,
    m.Bundle, m.Rate, m.RatePlan, m.TimeBand, m.TimeBandSet, m.Zone, m.BillingGroup, m.BillCycle, m.Tax,
    m.SimType, m.CustomerGroup, m.SalesChannel, m.CatalogShare,
]


def wipe():
    """Back to a database with no catalogue and no brands (inside the test's transaction)."""
    for model in WIPE_ORDER:
        model.objects.all().delete()
    AuditEvent.objects.all().delete()
    Brand.objects.all().delete()
