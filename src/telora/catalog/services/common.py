"""What every catalogue write shares: rights, the change log (report lines and audit events),
looking rows up by code, and versioning dated rows (prices, rates, price-list items)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal

from telora.catalog import models as m
from telora.catalog.models import in_effect
from telora.core import rights
from telora.core.services import Actor, record_event
from telora.core.services.actors import PermissionDeniedError

MODELS = {
    "taxes": m.Tax, "bill_cycles": m.BillCycle, "billing_groups": m.BillingGroup, "zones": m.Zone,
    "time_bands": m.TimeBandSet, "rate_plans": m.RatePlan, "bundles": m.Bundle, "products": m.Product,
    "discounts": m.Discount, "customer_groups": m.CustomerGroup, "sales_channels": m.SalesChannel,
    "price_lists": m.PriceList, "sim_types": m.SimType,
}


def require(actor: Actor, brand, perm: str) -> None:
    """Jobs (the CLI, imports) act with full rights; people and API keys need `perm` in the brand."""
    if actor.principal is None and actor.job:
        return
    if not rights.has_perm(actor.principal, brand, perm):
        raise PermissionDeniedError(f"You lack {perm} in brand {brand.code}.")


def plain(value):
    """A spec value as JSON-ready data for audit events: amounts as text, nested rows as text."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dict):
        return json.dumps({k: plain(v) for k, v in value.items()}, sort_keys=True, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def describe(value) -> str:
    value = plain(value)
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return "-" if value is None else str(value)


@dataclass
class Change:
    action: str  # create, update, close, reopen
    entity: str  # zone, rate, price...
    key: str  # DK; POST_STD voice DK PEAK; MOB_POST_10GB recurring
    details: list[str] = field(default_factory=list)


@dataclass
class Log:
    """Collects the changes of one write: a line each for the report and one audit event each."""

    brand: object
    actor: Actor
    at: dt.datetime
    changes: list[Change] = field(default_factory=list)

    def record(self, action: str, entity: str, key: str, obj, *, old: dict | None = None,
               new: dict | None = None, message: str = "") -> None:
        old_plain = {k: plain(v) for k, v in (old or {}).items()}
        new_plain = {k: plain(v) for k, v in (new or {}).items()}
        details = []
        if action == "update":
            details = [f"{k} {describe(old.get(k))} → {describe(new.get(k))}"
                       for k in new if old_plain.get(k) != new_plain.get(k)]
        self.changes.append(Change(action, entity, key, details))
        record_event(actor=self.actor, at=self.at, action=action, obj=obj, brand=self.brand,
                     old=old_plain if old is not None else None, new=new_plain if new is not None else None,
                     message=message or f"{action} {entity} {key}")

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for change in self.changes:
            result[change.action] = result.get(change.action, 0) + 1
        return result


class Refs:
    """Rows of the brand by section and code (any lifetime), loaded once and kept up to date."""

    def __init__(self, brand):
        self.brand = brand
        self._rows: dict[str, dict[str, object]] = {}
        self._charges: dict[tuple[int, str], m.ProductCharge] | None = None

    def rows(self, section: str) -> dict[str, object]:
        if section not in self._rows:
            self._rows[section] = {row.code: row for row in MODELS[section].objects.filter(brand=self.brand)}
        return self._rows[section]

    def get(self, section: str, code: str | None):
        return None if code is None else self.rows(section)[code]

    def add(self, section: str, row) -> None:
        self.rows(section)[row.code] = row

    def charge(self, product_code: str, charge_code: str) -> m.ProductCharge:
        if self._charges is None:
            self._charges = {(c.product_id, c.code): c for c in m.ProductCharge.objects.filter(brand=self.brand)}
        return self._charges[(self.get("products", product_code).pk, charge_code)]

    def add_charge(self, charge: m.ProductCharge) -> None:
        if self._charges is not None:
            self._charges[(charge.product_id, charge.code)] = charge


def version(rows: list, wanted: dict | None, day: dt.date, *, values, assign, create):
    """Make one dated thing (a rate, a price) have `wanted` values from `day` on.

    `rows` are all its versions. The version in effect on `day` is kept when it already has
    those values; otherwise it ends on `day` and a new version starts there, running until the
    next version already scheduled (if any). A version that starts on `day` itself is changed
    in place. `wanted` None ends the version in effect. Versions before `day` are never touched.

    Returns (action, old values, new values, row) or None when nothing changed.
    """
    rows = sorted(rows, key=lambda row: row.valid_from)
    current = next((row for row in rows if in_effect(row, day)), None)
    following = next((row for row in rows if row.valid_from > day), None)
    if current is None:
        if wanted is None:
            return None
        row = create(wanted, day, following.valid_from if following else None)
        return "create", None, wanted, row
    old = values(current)
    if wanted is not None and old == wanted:
        return None
    if current.valid_from == day:
        if wanted is None:
            pk = current.pk
            current.delete()
            current.pk = pk  # kept for the audit event
            return "close", old, None, current
        assign(current, wanted)
        current.save()
        return "update", old, wanted, current
    end, current.valid_to = current.valid_to, day
    current.save(update_fields=["valid_to"])
    if wanted is None:
        return "close", old, None, current
    return "update", old, wanted, create(wanted, day, end)
