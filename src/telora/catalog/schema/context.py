"""What a catalogue already knows while one part of it is validated: the codes of every
section (from the file when it has that section, else from the database) and what references
need to know about them (a zone's kind, a band set's bands, a product's charges)."""

from __future__ import annotations

from dataclasses import dataclass, field

from telora.catalog.constants import PRICE, RECURRING
from telora.catalog.schema.errors import Errors, join
from telora.catalog.schema.values import MISSING, as_code, as_list

# Section name -> the entity it lists, in dependency order (a section refers only to earlier ones,
# and products to products).
ENTITIES = {
    "taxes": "tax",
    "bill_cycles": "bill cycle",
    "billing_groups": "billing group",
    "zones": "zone",
    "time_bands": "time band set",
    "rate_plans": "rate plan",
    "bundles": "bundle",
    "products": "product",
    "discounts": "discount",
    "customer_groups": "customer group",
    "sales_channels": "sales channel",
    "price_lists": "price list",
    "sim_types": "SIM type",
}
SECTIONS = tuple(ENTITIES)


def info_of(section: str, spec: dict) -> dict:
    """The facts other sections check about one entity."""
    if section == "zones":
        return {"prefixes": bool(spec["prefixes"]), "countries": bool(spec["countries"])}
    if section == "time_bands":
        return {"bands": sorted({band["band"] for band in spec["bands"] if band["band"]})}
    if section == "products":
        charges = [RECURRING] if spec.get("recurring") is not None else []
        charges += [PRICE] if spec.get("price") is not None else []
        charges += [charge["code"] for charge in spec.get("one_time") or []]
        return {"kind": spec.get("kind"), "charges": charges}
    if section == "rate_plans":
        return {"time_bands": spec.get("time_bands")}
    if section == "taxes":
        return {"default": bool(spec.get("default"))}
    return {}


@dataclass
class Context:
    known: dict[str, dict[str, dict]] = field(default_factory=lambda: {s: {} for s in SECTIONS})
    prefix_owner: dict[str, str] = field(default_factory=dict)
    country_owner: dict[str, str] = field(default_factory=dict)

    def register(self, section: str, spec: dict) -> None:
        self.known[section][spec["code"]] = info_of(section, spec)

    def info(self, section: str, code: str | None) -> dict:
        return self.known[section].get(code) or {}

    def ref(self, section: str, value, path: str, errors: Errors) -> str | None:
        """A reference to an entity of `section` by code; None (with an error) if unknown."""
        if value is MISSING or value is None:
            return None
        code = as_code(value, path, errors)
        if code is not None and code not in self.known[section]:
            errors.add(path, f"unknown {ENTITIES[section]} {code!r}")
            return None
        return code

    def refs(self, section: str, value, path: str, errors: Errors) -> list[str]:
        """A list of references, sorted; duplicates and unknown codes are errors."""
        found: list[str] = []
        if value is MISSING or value is None:
            return found
        for index, item in enumerate(as_list(value, path, errors) or []):
            code = self.ref(section, item, join(path, index), errors)
            if code is None:
                continue
            if code in found:
                errors.add(join(path, index), f"{code!r} is listed twice")
                continue
            found.append(code)
        return sorted(found)
