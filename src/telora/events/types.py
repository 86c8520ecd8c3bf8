"""The domain event types Telora emits, the menu area whose `view` right a webhook's owner needs to
receive each, and its TM Forum name where a TMF resource exists (docs/events.md lists them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    code: str
    area: str  # rights area: a hub receives the event only if its owner may view this area
    api: str  # the TMF API whose hub serves it by default ("" for none)
    tmf_name: str  # TMF eventType
    resource: str  # TMF @type of the resource in event.<resource>
    href: str  # the resource's path, "{id}" from the subject


CUSTOMER = "/tmf-api/customerManagement/v4/customer/{id}"
PRODUCT = "/tmf-api/productInventory/v4/product/{id}"
BILL = "/tmf-api/customerBillManagement/v4/customerBill/{id}"
BUCKET = "/tmf-api/prepayBalanceManagement/v4/bucket/{id}"
BILLRUN = "/api/v1/billruns/{id}"

_ALL = [
    EventType("customer.created", "customers", "customerManagement", "CustomerCreateEvent", "Customer", CUSTOMER),
    EventType("customer.changed", "customers", "customerManagement", "CustomerAttributeValueChangeEvent", "Customer",
              CUSTOMER),
    EventType("subscription.activated", "customers", "productInventory", "ProductStateChangeEvent", "Product", PRODUCT),
    EventType("subscription.suspended", "customers", "productInventory", "ProductStateChangeEvent", "Product", PRODUCT),
    EventType("subscription.resumed", "customers", "productInventory", "ProductStateChangeEvent", "Product", PRODUCT),
    EventType("subscription.terminated", "customers", "productInventory", "ProductStateChangeEvent", "Product",
              PRODUCT),
    EventType("subscription.plan_changed", "customers", "productInventory", "ProductAttributeValueChangeEvent",
              "Product", PRODUCT),
    EventType("subscription.addon_added", "customers", "productInventory", "ProductAttributeValueChangeEvent",
              "Product", PRODUCT),
    EventType("subscription.addon_removed", "customers", "productInventory", "ProductAttributeValueChangeEvent",
              "Product", PRODUCT),
    EventType("subscription.sim_swapped", "customers", "productInventory", "ProductAttributeValueChangeEvent",
              "Product", PRODUCT),
    EventType("subscription.number_changed", "customers", "productInventory", "ProductAttributeValueChangeEvent",
              "Product", PRODUCT),
    EventType("invoice.issued", "billing", "customerBillManagement", "CustomerBillCreateEvent", "CustomerBill", BILL),
    EventType("invoice.credit_note_issued", "billing", "customerBillManagement", "CustomerBillCreateEvent",
              "CustomerBill", BILL),
    EventType("billrun.finished", "billing", "customerBillManagement", "BillRunFinishedEvent", "BillRun", BILLRUN),
    EventType("balance.low", "rating", "prepayBalanceManagement", "BucketBalanceLowEvent", "Bucket", BUCKET),
    EventType("balance.zero", "rating", "prepayBalanceManagement", "BucketBalanceZeroEvent", "Bucket", BUCKET),
    EventType("balance.topped_up", "rating", "prepayBalanceManagement", "BucketBalanceChangeEvent", "Bucket", BUCKET),
    EventType("balance.adjusted", "rating", "prepayBalanceManagement", "BucketBalanceChangeEvent", "Bucket", BUCKET),
    EventType("renewal.skipped", "rating", "prepayBalanceManagement", "BucketRenewalSkippedEvent", "Bucket",
              BUCKET),
    EventType("bundle.used_80", "rating", "prepayBalanceManagement", "BucketUsageThresholdEvent", "Bucket", BUCKET),
    EventType("bundle.used_100", "rating", "prepayBalanceManagement", "BucketUsageThresholdEvent", "Bucket", BUCKET),
    EventType("provisioning.target_down", "provisioning", "", "NetworkTargetDownEvent", "NetworkTarget", ""),
    EventType("provisioning.target_up", "provisioning", "", "NetworkTargetUpEvent", "NetworkTarget", ""),
]
EVENT_TYPES: dict[str, EventType] = {t.code: t for t in _ALL}


def types_of_api(api: str) -> list[str]:
    return [t.code for t in _ALL if t.api == api]


def types_named(tmf_name: str) -> list[str]:
    """Telora types behind a TMF eventType (several share ProductStateChangeEvent); also accepts a
    Telora type itself ("balance.low") for events TMF has no name of its own for."""
    if tmf_name in EVENT_TYPES:
        return [tmf_name]
    return [t.code for t in _ALL if t.tmf_name == tmf_name]
