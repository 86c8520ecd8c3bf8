"""Applying a catalogue file: validate all of it, then write all of it, in one transaction.

Nothing is written unless the whole file is valid; every error comes back at once with its
YAML path. A dry run (`check=True`) makes the same writes and rolls them back, so it reports
exactly what an apply would do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection, transaction

from telora.catalog import models as m
from telora.catalog.export import export_tree
from telora.catalog.schema.context import SECTIONS
from telora.catalog.schema.document import Baseline, clean_document
from telora.catalog.schema.errors import CatalogError
from telora.catalog.selectors.state import brand_spec
from telora.catalog.services.common import Change, Log, Refs, require
from telora.catalog.services.writers import close_missing, sync_section
from telora.core import clock
from telora.core.models import Brand
from telora.core.services import Actor, record_event
from telora.core.services.brands import create_brand, update_brand

BRAND_FIELDS = ("name", "currency", "timezone", "country", "language")
VERBS = {"create": "created", "update": "updated", "close": "closed", "reopen": "reopened", "delete": "deleted"}


@dataclass
class ApplyResult:
    brand: str
    effective_from: dt.date
    changes: list[Change] = field(default_factory=list)
    applied: bool = True  # False for a dry run

    def counts(self) -> dict[str, int]:
        counts = {verb: 0 for verb in VERBS}
        for change in self.changes:
            counts[change.action] += 1
        return counts

    def summary(self) -> str:
        if not self.changes:
            return "no changes"
        counts = self.counts()
        parts = [f"{n} {VERBS[action]}" for action, n in counts.items() if n or action in ("create", "update", "close")]
        return ", ".join(parts)

    def lines(self) -> list[str]:
        prefix = "" if self.applied else "would be "
        return [f"{prefix}{VERBS[c.action]} {c.entity} {c.key}" + (f": {'; '.join(c.details)}" if c.details else "")
                for c in self.changes]


class _DryRun(Exception):
    def __init__(self, result: ApplyResult):
        self.result = result


def _lock(code) -> None:
    """One apply per brand at a time: concurrent applies of the same brand queue here."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"telora.catalog:{code}"])


def _baseline(code: str, *, actor: Actor, perm: str, effective_from: dt.date | None) -> Baseline:
    others = set(Brand.objects.exclude(code=code).values_list("code", flat=True))
    brand = Brand.objects.filter(code=code).first()
    if brand is None:
        return Baseline(other_brands=others)
    require(actor, brand, perm)
    tree = export_tree(brand, effective_from or clock.today(brand))
    has_prices = m.ProductPrice.objects.filter(brand=brand).exists() or m.Rate.objects.filter(brand=brand).exists()
    return Baseline(brand=brand_spec(brand), sections={s: tree[s] for s in SECTIONS}, other_brands=others,
                    has_prices=has_prices)


def _ensure_brand(spec: dict, *, actor: Actor, at: dt.datetime, log: Log) -> Brand:
    values = {key: spec[key] for key in BRAND_FIELDS if spec[key] is not None}
    brand = Brand.objects.filter(code=spec["code"]).first()
    if brand is None:
        brand = create_brand(actor=actor, at=at, code=spec["code"], **values)  # audited by core
        log.changes.append(Change("create", "brand", brand.code))
        return brand
    changed = {key: value for key, value in values.items() if getattr(brand, key) != value}
    if changed:
        details = [f"{key} {getattr(brand, key)} → {value}" for key, value in changed.items()]
        brand = update_brand(brand, actor=actor, at=at, **changed)  # audited by core
        log.changes.append(Change("update", "brand", brand.code, details))
    return brand


def _sync_shares(brand: Brand, codes: list[str], log: Log) -> None:
    current = {share.shared_with.code: share for share in m.CatalogShare.objects.filter(brand=brand)
               .select_related("shared_with")}
    for code in sorted(set(codes) - set(current)):
        share = m.CatalogShare.objects.create(brand=brand, shared_with=Brand.objects.get(code=code))
        log.record("create", "share", f"{brand.code} → {code}", share, new={"shared_with": code})
    for code in sorted(set(current) - set(codes)):
        share = current[code]
        log.record("delete", "share", f"{brand.code} → {code}", share, old={"shared_with": code})
        share.delete()


def apply_catalog(data, *, actor: Actor, at: dt.datetime, effective_from: dt.date | None = None,
                  check: bool = False, source: str = "", perm: str = "catalog.apply",
                  summary_event: bool = True) -> ApplyResult:
    """Make the brand's catalogue what `data` (a parsed YAML file) says, from `effective_from`
    (default: today in the brand's timezone). Raises CatalogError listing every problem."""
    code = data.get("brand", {}).get("code") if isinstance(data, dict) and isinstance(data.get("brand"), dict) else None
    try:
        with transaction.atomic():
            _lock(code)
            document, errors = clean_document(
                data, lambda c: _baseline(c, actor=actor, perm=perm, effective_from=effective_from))
            if errors:
                raise CatalogError(errors.items)
            log = Log(brand=None, actor=actor, at=at)
            brand = _ensure_brand(document.brand, actor=actor, at=at, log=log)
            require(actor, brand, perm)
            log.brand = brand
            day = effective_from or clock.today(brand)
            refs = Refs(brand)
            present = [s for s in SECTIONS if document.sections[s] is not None]
            for section in present:
                sync_section(section, brand, document.sections[section], day, refs, log)
            for section in reversed(present):
                close_missing(section, brand, document.sections[section], day, log)
            if document.brand["shared_with"] is not None:
                _sync_shares(brand, document.brand["shared_with"], log)
            result = ApplyResult(brand=brand.code, effective_from=day, changes=log.changes, applied=not check)
            if log.changes and summary_event:
                record_event(actor=actor, at=at, action="config_apply", obj=brand, brand=brand,
                             new={**result.counts(), "effective_from": day},
                             message=f"{source or 'catalogue'} applied from {day}: {result.summary()}")
            if check:
                raise _DryRun(result)
            return result
    except _DryRun as dry:
        return dry.result
