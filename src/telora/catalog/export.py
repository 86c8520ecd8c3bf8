"""A brand's catalogue as YAML: canonical specs turned into the file's shape.

The canonical form leaves out what equals its default (no setup fee, no bundles, sellable),
writes lists of codes sorted, amounts as quoted decimals with at least the currency's minor
unit of places ("149.00", "0.035") and percents with no trailing zeros ("25", "12.5"). So the
reference file exports to an equal catalogue, and an export applied to an empty database
exports again byte for byte.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from telora.catalog.schema.context import SECTIONS
from telora.catalog.schema.document import VERSION
from telora.catalog.schema.values import format_minutes
from telora.catalog.selectors.state import brand_spec, read_state
from telora.catalog.yamlio import Flow, Quoted, dump
from telora.core.money import minor_unit


def format_amount(value: Decimal, places: int) -> Quoted:
    exponent = value.normalize().as_tuple().exponent
    return Quoted(f"{value:.{max(places, -exponent if exponent < 0 else 0)}f}")


def format_percent(value: Decimal) -> Quoted:
    return Quoted(format(value.normalize(), "f"))


def _put(target: dict, key: str, value, default=None) -> None:
    if value != default and value not in ([], {}, None, ""):
        target[key] = value


class Tree:
    """Builds the YAML-shaped tree for one brand's currency."""

    def __init__(self, currency: str):
        self.places = minor_unit(currency)

    def amount(self, value):
        return None if value is None else format_amount(value, self.places)

    def entity(self, section: str, spec: dict) -> dict:
        out = {"code": spec["code"], "name": spec["name"]}
        getattr(self, section)(spec, out)
        return out

    def taxes(self, spec, out):
        out["percent"] = format_percent(spec["percent"])
        _put(out, "default", spec["default"], False)

    def bill_cycles(self, spec, out):
        out["anchor_day"] = spec["anchor_day"]

    def billing_groups(self, spec, out):
        _put(out, "bill_cycle", spec["bill_cycle"])
        _put(out, "description", spec["description"])

    def zones(self, spec, out):
        _put(out, "prefixes", [Quoted(p) for p in spec["prefixes"]])
        _put(out, "countries", spec["countries"])

    def time_bands(self, spec, out):
        bands = []
        for band in spec["bands"]:
            if band["default"]:
                bands.append({"band": band["band"], "default": True})
            else:
                bands.append({"band": band["band"], "days": band["days"], "from": Quoted(format_minutes(band["from"])),
                              "to": Quoted(format_minutes(band["to"]))})
        out["bands"] = bands

    def rate_plans(self, spec, out):
        _put(out, "time_bands", spec["time_bands"])
        rates = []
        for rate in spec["rates"]:
            row = Flow(service=rate["service"], zone=rate["zone"])
            _put(row, "band", rate["band"])
            row.update(price=self.amount(rate["price"]), unit=rate["unit"], increments=list(rate["increments"]))
            for key in ("setup", "minimum"):
                if rate[key]:
                    row[key] = self.amount(rate[key])
            rates.append(row)
        out["rates"] = rates

    def bundles(self, spec, out):
        out["period"] = spec["period"]
        out["allowances"] = [Flow(service=a["service"], zones=a["zones"], amount=a["amount"])
                             for a in spec["allowances"]]

    def products(self, spec, out):
        out["kind"] = spec["kind"]
        _put(out, "service_type", spec["service_type"])
        _put(out, "sellable", spec["sellable"], True)
        _put(out, "rate_plan", spec["rate_plan"])
        _put(out, "tax", spec["tax"])
        _put(out, "recurring", self.amount(spec["recurring"]))
        _put(out, "price", self.amount(spec["price"]))
        _put(out, "one_time", [Flow(code=c["code"], name=c["name"], price=self.amount(c["price"]))
                               for c in spec["one_time"]])
        _put(out, "bundles", spec["bundles"])
        _put(out, "commitment_months", spec["commitment_months"], 0)
        _put(out, "low_balance_threshold", self.amount(spec.get("low_balance_threshold")))
        _put(out, "attributes", {key: spec["attributes"][key] for key in sorted(spec["attributes"])})
        rules = spec["rules"]
        group = {}
        _put(group, "requires_any", rules["requires_any"])
        _put(group, "excludes", rules["excludes"])
        limits = [Flow(count=limit["count"], of=limit["of"]) for limit in rules["at_most"]]
        _put(group, "at_most", limits[0] if len(limits) == 1 else limits)
        _put(out, "rules", group)

    def discounts(self, spec, out):
        out["applies_to"] = spec["applies_to"]
        out["percent"] = format_percent(spec["percent"])
        _put(out, "services", spec["services"])
        _put(out, "zones", spec["zones"])
        _put(out, "months", spec["months"])
        out["products"] = spec["products"]

    def customer_groups(self, spec, out):
        overrides = []
        for override in spec.get("rate_overrides", ()):
            row = Flow()
            _put(row, "rate_plan", override["rate_plan"])
            row.update(service=override["service"], zone=override["zone"])
            _put(row, "band", override["band"])
            if override["price"] is None:
                row["discount"] = format_percent(override["percent"])
            else:
                row.update(price=self.amount(override["price"]), unit=override["unit"],
                           increments=list(override["increments"]))
                for key in ("setup", "minimum"):
                    if override[key]:
                        row[key] = self.amount(override[key])
            overrides.append(row)
        _put(out, "rate_overrides", overrides)

    def sales_channels(self, spec, out):
        _put(out, "default_for", spec["default_for"])

    def price_lists(self, spec, out):
        _put(out, "channel", spec["channel"])
        _put(out, "customer_group", spec["customer_group"])
        _put(out, "priority", spec["priority"], 0)
        out["items"] = [Flow(product=i["product"], charge=i["charge"], price=self.amount(i["price"]))
                        for i in spec["items"]]

    def sim_types(self, spec, out):
        out["form_factor"] = spec["form_factor"]
        _put(out, "description", spec["description"])


def export_tree(brand, day: dt.date) -> dict:
    """The brand's catalogue on `day` as YAML-shaped data (every section, empty ones as [])."""
    state = read_state(brand, day)
    tree = Tree(brand.currency)
    brand_out = brand_spec(brand)
    if not brand_out["shared_with"]:
        del brand_out["shared_with"]
    document = {"version": VERSION, "brand": brand_out}
    for section in SECTIONS:
        document[section] = [tree.entity(section, spec) for spec in state[section].values()]
    return document


def export_yaml(brand, day: dt.date) -> str:
    header = [f"Catalogue of brand {brand.code} in effect on {day.isoformat()} (telora config export).",
              "Amounts are exact decimals in quotes, in the brand's currency, net of tax."]
    return dump(export_tree(brand, day), header)
