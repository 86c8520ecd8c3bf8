"""Writing one section's specs to its rows: plain fields, child rows and links, dated versions.

`sync_section` creates, updates and reopens the entities a file lists; `close_missing` ends
those it no longer lists. Children of a newly created entity are part of its one audit event;
a changed rate or price of an existing entity gets its own.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from telora.catalog import models as m
from telora.catalog.constants import PRICE, RECURRING
from telora.catalog.models import in_effect
from telora.catalog.schema.context import ENTITIES
from telora.catalog.selectors.state import SHAPES, override_values, rate_values
from telora.catalog.services.common import Log, Refs, version


class Writer:
    scalars: dict[str, str] = {}  # spec key -> model field
    references: dict[str, tuple[str, str]] = {}  # spec key -> (model field, section)
    blank: tuple[str, ...] = ()  # spec keys whose None is stored as ""

    def assign(self, row, spec: dict, refs: Refs) -> None:
        row.name = spec["name"]
        for key, attr in self.scalars.items():
            value = spec[key]
            setattr(row, attr, "" if value is None and key in self.blank else value)
        for key, (attr, section) in self.references.items():
            setattr(row, attr, refs.get(section, spec[key]))

    def links(self, row, spec: dict, refs: Refs) -> None:
        """Child rows and many-to-many links, written after every entity of the section exists."""

    def dated(self, row, spec: dict, day: dt.date, refs: Refs, log: Log, *, quiet: bool) -> None:
        """Versions of prices and rates; `quiet` when the parent's own event already tells them."""

    def close(self, row, day: dt.date) -> None:
        """End the dated children in effect on `day` (the entity itself is closed)."""


def _end(rows, day: dt.date) -> None:
    for row in rows:
        if not in_effect(row, day):
            continue
        if row.valid_from == day:
            row.delete()
        else:
            row.valid_to = day
            row.save(update_fields=["valid_to"])


def _version_all(existing: dict, wanted: dict, day, *, values, assign, create, log: Log | None, entity: str,
                 label) -> None:
    for key in sorted(set(existing) | set(wanted), key=str):
        result = version(existing.get(key, []), wanted.get(key), day, values=values, assign=assign,
                         create=lambda v, start, end, key=key: create(key, v, start, end))
        if result and log is not None:
            action, old, new, row = result
            log.record(action, entity, label(key), row, old=old, new=new)


class TaxWriter(Writer):
    scalars = {"percent": "percent", "default": "is_default"}


class BillCycleWriter(Writer):
    scalars = {"anchor_day": "anchor_day"}


class BillingGroupWriter(Writer):
    scalars = {"description": "description"}
    references = {"bill_cycle": ("bill_cycle", "bill_cycles")}
    blank = ("description",)


class SalesChannelWriter(Writer):
    scalars = {"default_for": "default_for"}


class SimTypeWriter(Writer):
    scalars = {"form_factor": "form_factor", "description": "description"}
    blank = ("description",)


class ZoneWriter(Writer):
    scalars = {"prefixes": "prefixes", "countries": "countries"}


class TimeBandWriter(Writer):
    def links(self, row, spec, refs):
        row.bands.all().delete()
        m.TimeBand.objects.bulk_create([
            m.TimeBand(brand=row.brand, band_set=row, position=index, band=band["band"], days=band["days"],
                       start_minute=band["from"], end_minute=band["to"], is_default=band["default"])
            for index, band in enumerate(spec["bands"])
        ])


class RatePlanWriter(Writer):
    references = {"time_bands": ("time_band_set", "time_bands")}

    def dated(self, row, spec, day, refs, log, *, quiet):
        existing = defaultdict(list)
        for rate in row.rates.select_related("zone"):
            existing[(rate.service, rate.zone.code, rate.band)].append(rate)
        wanted = {(r["service"], r["zone"], r["band"] or ""): {k: r[k] for k in
                  ("price", "unit", "increments", "setup", "minimum")} for r in spec["rates"]}

        def assign(rate, values):
            rate.price, rate.unit, rate.setup, rate.minimum = (values[k] for k in ("price", "unit", "setup", "minimum"))
            rate.first_increment, rate.next_increment = values["increments"]

        def create(key, values, start, end):
            rate = m.Rate(brand=row.brand, rate_plan=row, service=key[0], zone=refs.get("zones", key[1]), band=key[2],
                          valid_from=start, valid_to=end)
            assign(rate, values)
            rate.save()
            return rate

        _version_all(existing, wanted, day, values=rate_values, assign=assign, create=create,
                     log=None if quiet else log, entity="rate", label=lambda key: " ".join(filter(None, (row.code, *key))))

    def close(self, row, day):
        _end(row.rates.all(), day)


class BundleWriter(Writer):
    scalars = {"period": "period"}

    def links(self, row, spec, refs):
        row.allowances.all().delete()
        for index, item in enumerate(spec["allowances"]):
            allowance = m.Allowance.objects.create(brand=row.brand, bundle=row, position=index, service=item["service"],
                                                   amount=item["amount"])
            allowance.zones.set([refs.get("zones", code) for code in item["zones"]],
                                through_defaults={"brand": row.brand})


class ProductWriter(Writer):
    scalars = {"kind": "kind", "service_type": "service_type", "sellable": "sellable",
               "commitment_months": "commitment_months", "low_balance_threshold": "low_balance_threshold",
               "attributes": "attributes"}
    references = {"rate_plan": ("rate_plan", "rate_plans"), "tax": ("tax", "taxes")}
    blank = ("service_type",)

    def links(self, row, spec, refs):
        brand = {"brand": row.brand}
        row.bundles.set([refs.get("bundles", code) for code in spec["bundles"]], through_defaults=brand)
        row.rules.all().delete()
        rules = spec["rules"]
        entries = [(kind, None, rules[kind]) for kind in ("requires_any", "excludes") if rules[kind]]
        entries += [("at_most", limit["count"], limit["of"]) for limit in rules["at_most"]]
        for position, (kind, count, targets) in enumerate(entries):
            rule = m.ProductRule.objects.create(brand=row.brand, product=row, kind=kind, count=count, position=position)
            rule.targets.set([refs.get("products", code) for code in targets], through_defaults=brand)

    def dated(self, row, spec, day, refs, log, *, quiet):
        charges = {charge.code: charge for charge in row.charges.prefetch_related("prices")}
        wanted = {}
        if spec["recurring"] is not None:
            wanted[RECURRING] = (m.ProductCharge.Kind.RECURRING, "", spec["recurring"])
        if spec["price"] is not None:
            wanted[PRICE] = (m.ProductCharge.Kind.ONE_TIME, "", spec["price"])
        for item in spec["one_time"]:
            wanted[item["code"]] = (m.ProductCharge.Kind.ONE_TIME, item["name"], item["price"])
        for code, (kind, name, _amount) in wanted.items():
            charge = charges.get(code)
            if charge is None:
                charges[code] = charge = m.ProductCharge.objects.create(brand=row.brand, product=row, code=code,
                                                                        kind=kind, name=name)
                refs.add_charge(charge)
            elif (charge.kind, charge.name) != (kind, name):
                old = {"kind": charge.kind, "name": charge.name}
                charge.kind, charge.name = kind, name
                charge.save(update_fields=["kind", "name"])
                if not quiet:
                    log.record("update", "charge", f"{row.code} {code}", charge, old=old, new={"kind": kind, "name": name})

        def create(code, values, start, end):
            return m.ProductPrice.objects.create(brand=row.brand, charge=charges[code], amount=values["amount"],
                                                 valid_from=start, valid_to=end)

        _version_all({code: list(c.prices.all()) for code, c in charges.items()},
                     {code: {"amount": amount} for code, (_k, _n, amount) in wanted.items()}, day,
                     values=lambda price: {"amount": price.amount},
                     assign=lambda price, values: setattr(price, "amount", values["amount"]),
                     create=create, log=None if quiet else log, entity="price", label=lambda code: f"{row.code} {code}")

    def close(self, row, day):
        _end(m.ProductPrice.objects.filter(charge__product=row), day)


class DiscountWriter(Writer):
    scalars = {"applies_to": "applies_to", "percent": "percent", "services": "services", "months": "months"}

    def links(self, row, spec, refs):
        brand = {"brand": row.brand}
        row.zones.set([refs.get("zones", code) for code in spec["zones"]], through_defaults=brand)
        row.products.set([refs.get("products", code) for code in spec["products"]], through_defaults=brand)


class CustomerGroupWriter(Writer):
    """A group's rate overrides are versioned like rates, keyed by (rate plan, service, zone, band)."""

    def dated(self, row, spec, day, refs, log, *, quiet):
        existing = defaultdict(list)
        for override in row.rate_overrides.select_related("zone", "rate_plan"):
            key = (override.rate_plan.code if override.rate_plan else "", override.service, override.zone.code,
                   override.band)
            existing[key].append(override)
        wanted = {(o["rate_plan"] or "", o["service"], o["zone"], o["band"] or ""):
                  {k: o[k] for k in ("price", "unit", "increments", "setup", "minimum", "percent")}
                  for o in spec["rate_overrides"]}

        def assign(override, values):
            override.price, override.unit, override.setup, override.minimum, override.percent = (
                values[k] for k in ("price", "unit", "setup", "minimum", "percent"))
            override.first_increment, override.next_increment = values["increments"] or (None, None)

        def create(key, values, start, end):
            override = m.RateOverride(brand=row.brand, customer_group=row, service=key[1], band=key[3],
                                      rate_plan=refs.get("rate_plans", key[0]) if key[0] else None,
                                      zone=refs.get("zones", key[2]), valid_from=start, valid_to=end)
            assign(override, values)
            override.save()
            return override

        _version_all(existing, wanted, day, values=override_values, assign=assign, create=create,
                     log=None if quiet else log, entity="rate override",
                     label=lambda key: " ".join(filter(None, (row.code, *key))))

    def close(self, row, day):
        _end(row.rate_overrides.all(), day)


class PriceListWriter(Writer):
    scalars = {"priority": "priority"}
    references = {"channel": ("channel", "sales_channels"), "customer_group": ("customer_group", "customer_groups")}

    def dated(self, row, spec, day, refs, log, *, quiet):
        existing = defaultdict(list)
        for item in row.items.select_related("charge__product"):
            existing[(item.charge.product.code, item.charge.code)].append(item)
        wanted = {(i["product"], i["charge"]): {"amount": i["price"]} for i in spec["items"]}

        def create(key, values, start, end):
            return m.PriceListItem.objects.create(brand=row.brand, price_list=row, charge=refs.charge(*key),
                                                  amount=values["amount"], valid_from=start, valid_to=end)

        _version_all(existing, wanted, day, values=lambda item: {"amount": item.amount},
                     assign=lambda item, values: setattr(item, "amount", values["amount"]), create=create,
                     log=None if quiet else log, entity="price list item", label=lambda key: f"{row.code} {' '.join(key)}")

    def close(self, row, day):
        _end(row.items.all(), day)


WRITERS: dict[str, Writer] = {
    "taxes": TaxWriter(), "bill_cycles": BillCycleWriter(), "billing_groups": BillingGroupWriter(),
    "zones": ZoneWriter(), "time_bands": TimeBandWriter(), "rate_plans": RatePlanWriter(),
    "bundles": BundleWriter(), "products": ProductWriter(), "discounts": DiscountWriter(),
    "customer_groups": CustomerGroupWriter(), "sales_channels": SalesChannelWriter(), "price_lists": PriceListWriter(),
    "sim_types": SimTypeWriter(),
}


def sync_section(section: str, brand, specs: dict[str, dict], day: dt.date, refs: Refs, log: Log) -> None:
    """Create, update or reopen every entity in `specs` so that it holds from `day` on."""
    shape, writer, entity = SHAPES[section], WRITERS[section], ENTITIES[section]
    rows = {row.code: row for row in shape.queryset(brand)}
    touched = []
    for code, spec in specs.items():
        row = rows.get(code)
        if row is None:
            row = shape.model(brand=brand, code=code, valid_from=day)
            writer.assign(row, spec, refs)
            row.save()
            refs.add(section, row)
            touched.append((row, None, spec, True, False, False))
            continue
        old = shape.fields(row)
        changed = old != {key: spec[key] for key in old}
        reopened = not in_effect(row, day)
        if reopened:
            row.valid_from = min(row.valid_from, day)
            row.valid_to = None if row.valid_to is not None and row.valid_to <= day else row.valid_to
        if changed:
            writer.assign(row, spec, refs)
        if changed or reopened:
            row.save()
        touched.append((row, old, spec, False, reopened, changed))
    for row, old, spec, created, reopened, changed in touched:
        if created or changed:
            writer.links(row, spec, refs)
        if created:
            log.record("create", entity, row.code, row, new=spec)
        if reopened:
            log.record("reopen", entity, row.code, row, new={"valid_from": row.valid_from, "valid_to": None})
        if changed:
            log.record("update", entity, row.code, row, old=old, new={key: spec[key] for key in old})
        writer.dated(row, spec, day, refs, log, quiet=created)


def close_missing(section: str, brand, specs: dict[str, dict], day: dt.date, log: Log) -> None:
    """End, on `day`, every entity of the section in effect then that `specs` no longer lists."""
    shape, writer = SHAPES[section], WRITERS[section]
    for row in shape.queryset(brand).at(day):
        if row.code in specs:
            continue
        old = shape.spec(row, day)
        row.valid_to = day
        row.save(update_fields=["valid_to"])
        writer.close(row, day)
        log.record("close", ENTITIES[section], row.code, row, old=old)
