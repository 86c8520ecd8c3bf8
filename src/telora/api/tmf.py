"""Pieces any TM Forum API can share: wire-named schemas, references, periods, exact Money,
attribute selection (`?fields=`) and a JSON renderer that writes decimals exactly.

Handlers build plain dicts with the spec's names (camelCase, `@type`, `@referredType`); these
schemas validate and document them, and operations pass `**TMF` (`by_alias`, `exclude_none`)
so absent optional attributes are left out, as TMF clients expect.

Exact money
-----------
TMF `Money.value` is a JSON *number*. A NUMERIC amount is a Python Decimal; turning it into a
float would print 0.1 + 0.2 style surprises and drop digits past ~15 significant ones. An API
built with `renderer=ExactJSONRenderer()` writes every Decimal as a JSON number with exactly its
digits (`"value": 149.00`, `"value": 0.035`), never through float. JSON itself has no precision
limit; a client that parses numbers as doubles (JavaScript) rounds as it would anyway, a client
with a decimal parser (Java BigDecimal, Python `json.loads(parse_float=Decimal)`) gets the
exact amount.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

from ninja import Field, Schema
from ninja.renderers import JSONRenderer
from ninja.schema import DjangoGetter
from pydantic import AfterValidator, ConfigDict, WithJsonSchema, model_validator

from telora.core.services.actors import ServiceError

TMF = {"by_alias": True, "exclude_none": True}
ALWAYS_SELECTED = ("id", "href", "@type")

ExactNumber = Annotated[Decimal, WithJsonSchema({"type": "number", "description": "An exact decimal, written "
                                                 "with its digits (no float rounding)"})]


MAX_ID = 2**63 - 1  # PostgreSQL bigint
# Time-zone offsets in use on Earth run from -12:00 to +14:00; PostgreSQL refuses beyond ±15:59.
MIN_OFFSET, MAX_OFFSET = dt.timedelta(hours=-12), dt.timedelta(hours=14)
EARLIEST, LATEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC), dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


def key(value: str | None) -> int:
    """A TMF id (path or filter) as a primary key: ASCII digits within bigint, else 0, which
    matches nothing (so `٣`, `²` or `99999999999999999999` are a 404, never a server error)."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        return 0
    number = int(value)
    return number if number <= MAX_ID else 0


def id_or_error(value: str, field: str) -> int:
    """A TMF id filter that must be an id: its key, or a 400 naming `field`."""
    number = key(value)
    if not number and value.strip() != "0":
        raise ServiceError(f"{field}: {value!r} is not an id", field=field)
    return number


def _moment_in_range(value: dt.datetime) -> dt.datetime:
    offset = value.utcoffset()
    if offset is not None and not MIN_OFFSET <= offset <= MAX_OFFSET:
        raise ValueError("the time-zone offset must be between -12:00 and +14:00")
    try:
        utc = value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError("must be between 1900-01-01 and 9999-01-01")
    return value


# A date-time filter (`usageDate.gte`): offsets from -12:00 to +14:00, years 1900 to 9998.
FilterDateTime = Annotated[dt.datetime, AfterValidator(_moment_in_range)]


class TmfSchema(Schema):
    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values, handler, info):
        """TMF handlers build plain dicts: those are validated as they are. ninja's Schema wraps every
        object, nested ones too, in an attribute getter so that ORM objects and resolvers work; for
        dicts that wrapper took half the time of a 20-item list response. Anything else goes the ninja way."""
        if isinstance(values, dict) and not cls._ninja_resolvers:
            return handler(values)
        return handler(DjangoGetter(values, cls, info.context))


class Ref(TmfSchema):
    """The common reference shape (ProductOfferingRef, CategoryRef, RelatedParty...)."""

    id: str
    href: str | None = None
    name: str | None = None
    role: str | None = None
    referredType: str | None = Field(None, alias="@referredType")


class TimePeriod(TmfSchema):
    startDateTime: dt.datetime | None = None
    endDateTime: dt.datetime | None = None


class Quantity(TmfSchema):
    amount: float | None = None
    units: str | None = None


class Money(TmfSchema):
    """TMF Money: `value` is written as an exact JSON number (see the module docstring)."""

    unit: str | None = Field(None, description="ISO 4217 currency code")
    value: ExactNumber | None = None


def day_period(start: dt.date | None, end: dt.date | None, timezone: str) -> dict:
    """A [start, end) range of business days as a TimePeriod: midnight in the brand's timezone.
    `endDateTime` is exclusive: the first moment no longer in the period."""
    zone = ZoneInfo(timezone)
    return {key: dt.datetime.combine(day, dt.time(), tzinfo=zone)
            for key, day in (("startDateTime", start), ("endDateTime", end)) if day is not None}


def selectable(schema: type[Schema]) -> frozenset[str]:
    """The wire names of a schema's attributes, for `?fields=`."""
    return frozenset(field.alias or name for name, field in schema.model_fields.items())


def wanted_fields(fields: str | None, allowed: frozenset[str]) -> frozenset[str] | None:
    """TMF attribute selection: `fields=name,lifecycleStatus` asks for those attributes (id, href
    and @type always come). None: everything. An unknown name is a 400 listing the known ones."""
    if not fields:
        return None
    wanted = frozenset(name.strip() for name in fields.split(",") if name.strip())
    unknown = sorted(wanted - allowed)
    if unknown:
        raise ServiceError(f"fields: unknown attribute {unknown[0]!r}; known: {', '.join(sorted(allowed))}",
                           field="fields")
    return wanted | frozenset(ALWAYS_SELECTED)


def select_fields(item: dict, wanted: frozenset[str] | None) -> dict:
    return item if wanted is None else {key: value for key, value in item.items() if key in wanted}


def split_values(value: str | None) -> list[str]:
    """A TMF filter value may list alternatives: `lifecycleStatus=Active,Launched`."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class ExactJSONRenderer(JSONRenderer):
    """JSON in which Decimal values are numbers with exactly their digits (see the module docstring)."""

    def render(self, request, data, *, response_status):
        marker = secrets.token_hex(8)  # fresh per response, so no text in the data can imitate it
        numbers: list[str] = []

        def swap(value):
            if isinstance(value, Decimal):
                if not value.is_finite():
                    return None
                numbers.append(format(value, "f"))
                return f"{marker}{len(numbers) - 1}"
            if isinstance(value, dict):
                return {key: swap(item) for key, item in value.items()}
            if isinstance(value, list | tuple):
                return [swap(item) for item in value]
            return value

        text = json.dumps(swap(data), cls=self.encoder_class, **self.json_dumps_params)
        if not numbers:
            return text
        return re.sub(f'"{marker}([0-9]+)"', lambda match: numbers[int(match.group(1))], text)
