from telora.catalog.models.base import CatalogEntity, CatalogShare, DatedRow, in_effect
from telora.catalog.models.config import BillCycle, BillingGroup, CustomerGroup, SalesChannel, SimType, Tax
from telora.catalog.models.pricing import (
    Discount,
    DiscountProduct,
    DiscountZone,
    PriceList,
    PriceListItem,
    RateOverride,
)
from telora.catalog.models.products import (
    Product,
    ProductBundle,
    ProductCharge,
    ProductPrice,
    ProductRule,
    ProductRuleTarget,
)
from telora.catalog.models.rating import (
    Allowance,
    AllowanceZone,
    Bundle,
    Rate,
    RatePlan,
    TimeBand,
    TimeBandSet,
    Zone,
)

__all__ = [
    "Allowance", "AllowanceZone", "BillCycle", "BillingGroup", "Bundle", "CatalogEntity", "CatalogShare",
    "CustomerGroup", "DatedRow", "Discount", "DiscountProduct", "DiscountZone", "PriceList", "PriceListItem",
    "Product", "ProductBundle", "ProductCharge", "ProductPrice", "ProductRule", "ProductRuleTarget", "Rate",
    "RateOverride", "RatePlan", "SalesChannel", "SimType", "Tax", "TimeBand", "TimeBandSet", "Zone", "in_effect",
]
