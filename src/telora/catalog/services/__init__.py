"""Every catalogue write: the whole-file apply and the one-entity services built on it.

All take keyword-only `actor` and `at`, run in one transaction, validate through
`telora.catalog.schema` and record an AuditEvent for each changed entity.
"""

from telora.catalog.schema.errors import CatalogError
from telora.catalog.services.apply import ApplyResult, apply_catalog
from telora.catalog.services.common import Change
from telora.catalog.services.entities import (
    close_entity,
    remove_rate,
    remove_rate_override,
    save_bill_cycle,
    save_billing_group,
    save_bundle,
    save_customer_group,
    save_discount,
    save_entity,
    save_price_list,
    save_product,
    save_rate,
    save_rate_override,
    save_rate_plan,
    save_sales_channel,
    save_sim_type,
    save_tax,
    save_time_band_set,
    save_zone,
    set_price,
    set_shares,
)

__all__ = [
    "ApplyResult", "CatalogError", "Change", "apply_catalog", "close_entity", "remove_rate", "remove_rate_override",
    "save_bill_cycle",
    "save_billing_group", "save_bundle", "save_customer_group", "save_discount", "save_entity", "save_price_list",
    "save_product", "save_rate", "save_rate_override", "save_rate_plan", "save_sales_channel", "save_sim_type", "save_tax",
    "save_time_band_set", "save_zone", "set_price", "set_shares",
]
