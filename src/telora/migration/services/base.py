"""What every entity of the import shares: reading files, row errors, references between rows,
field parsing, and the context of one run.

A file is one entity (customers.csv, accounts.csv, ...), CSV with a header row, or one JSON Lines
file whose lines name their entity. Each row has a `source_id`, the old system's id; rows refer to
each other by those ids (`customer_id` in accounts.csv is a customer's source_id).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError

# file name (without .csv) → entity, in the order the files are imported.
FILES = {
    "customers": "customer", "addresses": "address", "contacts": "contact", "accounts": "account",
    "subscriptions": "subscription", "products": "product", "balances": "balance", "usage": "usage",
    "receivables": "receivable",
}
ORDER = list(FILES.values())
MAX_ERRORS = 1000  # per run; more are counted, not listed


class Bad(Exception):
    """A row refused: `field` names the column at fault."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    @classmethod
    def of(cls, exc: ServiceError) -> Bad:
        """A service's error on a field, as a row error (its message without the field prefix)."""
        name = exc.field or "row"
        message = exc.message[len(name) + 2:] if exc.message.startswith(f"{name}: ") else exc.message
        return cls(name, message)


class Skip(Exception):  # noqa: N818  (not an error: the row waits on a refused one)
    """A row that refers to a row refused in this (dry) run: not checked further, not listed."""


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "field": self.field, "reason": self.reason}


@dataclass
class Source:
    """One input file of one entity: its rows as (line number, {column: text})."""

    name: str
    entity: str
    sha256: str
    columns: list[str]
    rows: list[tuple[int, dict]] = field(default_factory=list)


class Ref(SimpleNamespace):
    """What later rows need to know of an imported (or, in a dry run, planned) object. `id` is
    None until it is written."""

    id: int | None = None


# `column = ANY_TEXT` with texts(values) as its parameter: one array, however many values. Bound
# client-side it reaches the planner as a constant, which PostgreSQL hashes where it filters rows;
# an array made in the query (ANY(ARRAY(SELECT ... jsonb))) was searched element by element for each
# row, quadratic when the statistics of a just-loaded table led the planner to filter (40,000 source
# ids looked up in seconds instead of milliseconds)
ANY_TEXT = "ANY(%s::text[])"


def texts(values) -> list[str]:
    """The parameter of ANY_TEXT."""
    return list(values)


def entity_of(name: str) -> str | None:
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
    return FILES.get(stem)


def read(name: str, data: bytes) -> list[Source]:
    """The file's sources: one for a CSV named after its entity, one per entity for JSON Lines."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ServiceError(f"{name}: is not UTF-8 text", field="file") from None
    if name.lower().endswith((".jsonl", ".ndjson")):
        return _read_jsonl(name, text, digest)
    entity = entity_of(name)
    if entity is None:
        raise ServiceError(f"{name}: the file name says no entity; name it one of "
                           f"{', '.join(f + '.csv' for f in FILES)}", field="file")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise ServiceError(f"{name}: is empty (a header row is required)", field="file")
    columns = [c.strip().lower() for c in header]
    source = Source(name=name, entity=entity, sha256=digest, columns=columns)
    for values in reader:
        if not "".join(values).strip():
            continue
        row = dict(zip(columns, values, strict=False))
        if len(values) != len(columns):
            row["__width__"] = len(values)
        source.rows.append((reader.line_num, row))
    return [source]


def _read_jsonl(name: str, text: str, digest: str) -> list[Source]:
    by_entity: dict[str, Source] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            record = {"entity": "", "__json__": str(exc)}
        if not isinstance(record, dict):
            record = {"entity": "", "__json__": "is not a JSON object"}
        entity = str(record.pop("entity", "") or "")
        entity = FILES.get(entity, entity)
        if entity not in ORDER:
            entity = "customer" if "__json__" in record else entity
        source = by_entity.get(entity)
        if source is None:
            source = by_entity[entity] = Source(name=name, entity=entity, columns=[],
                                                       sha256=hashlib.sha256(f"{digest}:{entity}".encode()).hexdigest())
        row = {str(k).lower(): "" if v is None else str(v) for k, v in record.items()}
        if entity not in ORDER:
            row["__entity__"] = entity
        for column in row:
            if column not in source.columns:
                source.columns.append(column)
        source.rows.append((number, row))
    return list(by_entity.values())


# ---- field parsing ------------------------------------------------------------------------------

def text(row: dict, name: str, limit: int = 200, *, required: bool = False) -> str:
    value = (row.get(name) or "").strip()
    if required and not value:
        raise Bad(name, "is required")
    if len(value) > limit:
        raise Bad(name, f"is longer than {limit} characters")
    return value


def day(row: dict, name: str, *, required: bool = False) -> dt.date | None:
    value = text(row, name, 40, required=required)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Bad(name, f"{value!r} is not a date (YYYY-MM-DD)") from None


def moment(row: dict, name: str, brand: Brand, *, required: bool = False) -> dt.datetime | None:
    """An ISO date-time (with or without offset: without one it is the brand's local time) or a
    date (its local midnight)."""
    value = text(row, name, 40, required=required)
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Bad(name, f"{value!r} is not a date or date-time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(brand.timezone))
    return parsed


def amount(row: dict, name: str, *, required: bool = False) -> Decimal | None:
    value = text(row, name, 40, required=required)
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise Bad(name, f"{value!r} is not a number (use . for decimals)") from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 12:
        raise Bad(name, f"{value} is out of range")
    if number != number.quantize(Decimal("0.000001")):
        raise Bad(name, "has more than 6 decimals")
    return number


def choice(row: dict, name: str, allowed, default: str = "") -> str:
    value = text(row, name, 40) or default
    if value not in allowed:
        raise Bad(name, f"{value!r} is not one of {', '.join(allowed)}")
    return value


# ---- the run's context --------------------------------------------------------------------------

class Context:
    """One run: the brand, who acts and when, the source system, and what each source id became
    (objects imported earlier, rows planned or written in this run)."""

    def __init__(self, brand: Brand, *, actor: Actor, at: dt.datetime, source_system: str, dry_run: bool,
                 run=None):
        self.brand = brand
        self.actor = actor
        self.at = at
        self.today = clock.localtime(at, brand).date()
        self.source_system = source_system
        self.dry_run = dry_run
        self.run = run
        self.refs: dict[str, dict[str, Ref]] = {entity: {} for entity in ORDER}
        self.refused: dict[str, set[str]] = {entity: set() for entity in ORDER}
        self.cache: dict = {}

    def ref(self, entity: str, row: dict, column: str, *, required: bool = True) -> Ref | None:
        source_id = text(row, column, 100, required=required)
        if not source_id:
            return None
        found = self.refs[entity].get(source_id)
        if found is None and source_id in self.refused[entity]:
            raise Skip(f"{column}: {entity} {source_id} was refused")
        if found is None:
            raise Bad(column, f"no {entity} {source_id!r} in this import or an earlier one from "
                              f"{self.source_system}")
        return found
