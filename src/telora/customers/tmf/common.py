"""TM Forum resource pieces shared by TMF629, TMF666 and TMF637: references, characteristics,
contact media (the schema base, time periods and the `TMF` dump options are telora.api.tmf's).
Field names are the specs' (camelCase, `@type`, `@referredType`).

Handlers build plain dicts with the wire names; these schemas validate them and document them.
Operations use `by_alias=True, exclude_none=True`, so absent optional fields are left out, as TMF
clients expect.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field

from telora.api import tmf
from telora.api.tmf import TmfSchema
from telora.core.services.actors import ServiceError
from telora.customers.models import Address

CUSTOMER_BASE = "/tmf-api/customerManagement/v4/customer"
ACCOUNT_BASE = "/tmf-api/accountManagement/v4/billingAccount"
PRODUCT_BASE = "/tmf-api/productInventory/v4/product"


class Ref(tmf.Ref):
    """RelatedParty, AccountRef, BillingAccountRef, ProductOfferingRef, ResourceRef… (the common Ref shape)."""

    # The fields are telora.api.tmf.Ref's; the class is kept for its description in these APIs' documents.


class Characteristic(TmfSchema):
    name: str
    value: Any = None
    valueType: str | None = None


class MediumCharacteristic(TmfSchema):
    contactType: str | None = None
    emailAddress: str | None = None
    phoneNumber: str | None = None
    street1: str | None = None
    street2: str | None = None
    postCode: str | None = None
    city: str | None = None
    stateOrProvince: str | None = None
    country: str | None = None


class ContactMedium(TmfSchema):
    mediumType: str = Field(description="email, phone or postalAddress")
    preferred: bool | None = None
    characteristic: MediumCharacteristic


def iso(moment: dt.datetime | dt.date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def characteristic(name: str, value, value_type: str = "string") -> dict | None:
    if value is None or value == "":
        return None
    return {"name": name, "value": value, "valueType": value_type}


def characteristics(*items) -> list[dict]:
    return [item for item in items if item is not None]


def customer_ref(customer, role: str = "customer") -> dict:
    return {"id": str(customer.pk), "href": f"{CUSTOMER_BASE}/{customer.pk}", "name": customer.name, "role": role,
            "@referredType": "Customer"}


def account_ref(account) -> dict:
    return {"id": str(account.pk), "href": f"{ACCOUNT_BASE}/{account.pk}", "name": account.name,
            "@referredType": "BillingAccount"}


def postal_medium(address: Address) -> dict:
    return {"mediumType": "postalAddress", "characteristic": {
        "contactType": ",".join(address.roles) or None, "street1": address.street1, "street2": address.street2 or None,
        "postCode": address.postcode, "city": address.city, "stateOrProvince": address.state or None,
        "country": address.country}}


def address_values(medium: ContactMedium, default_roles: list[str]) -> dict:
    """A postalAddress contact medium as `add_address` arguments (contactType lists the roles)."""
    c = medium.characteristic
    roles = [r.strip() for r in (c.contactType or "").split(",") if r.strip()] or default_roles
    return {"roles": roles, "street1": c.street1 or "", "street2": c.street2 or "", "postcode": c.postCode or "",
            "city": c.city or "", "state": c.stateOrProvince or "", "country": c.country or ""}


def characteristic_values(items: list[Characteristic] | None, names: dict[str, str], field: str) -> dict:
    """Characteristics as service arguments, by the `names` map (TMF name -> argument); others refused."""
    values = {}
    for index, item in enumerate(items or []):
        if item.name not in names:
            known = ", ".join(sorted(names))
            raise ServiceError(f"{field}[{index}].name: unknown characteristic {item.name!r}; known: {known}",
                               field=f"{field}[{index}].name")
        value = item.value
        values[names[item.name]] = "" if value is None else value
    return values
