"""Shapes of /api/v1/inventory. A SIM card's PIN and PUK codes are never part of them: only
`GET sims/{id}/secrets` returns those."""

from __future__ import annotations

import datetime as dt
import re

from ninja import Field, Schema

from telora.api.guard import ObjectIn
from telora.catalog.export import format_amount
from telora.core.money import minor_unit
from telora.inventory.models import ImportBatch, NumberGroup, NumberStatus, PhoneNumber, SimCard, SimStatus

STORED_ERROR = re.compile(r"line (\d+): ([^:]*): (.*)", re.DOTALL)


class SimOut(Schema):
    id: int
    brand: str
    iccid: str
    imsi: str
    sim_type: str
    partner: str
    batch: str
    status: SimStatus
    reserved_until: dt.datetime | None
    reserved_for: str
    allocated_at: dt.datetime | None
    has_secrets: bool = Field(description="PIN/PUK codes are stored (read them at sims/{id}/secrets)")
    import_batch: int | None = Field(description="The upload that brought the card in")
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_brand(sim: SimCard) -> str:
        return sim.brand.code

    @staticmethod
    def resolve_import_batch(sim: SimCard) -> int | None:
        return sim.import_batch_id


class SimSecretsOut(Schema):
    iccid: str
    pin1: str
    puk1: str
    pin2: str
    puk2: str


class ReasonIn(ObjectIn):
    reason: str = Field("", max_length=500, description="Why (kept in the audit trail)")


class GroupRef(Schema):
    code: str
    name: str


class NumberOut(Schema):
    id: int
    brand: str
    number: str = Field(description="E.164 digits without +")
    e164: str
    display: str = Field(description="As people read it (+45 20 12 34 56)")
    group: GroupRef | None
    status: NumberStatus
    reserved_until: dt.datetime | None
    reserved_for: str
    allocated_at: dt.datetime | None
    quarantine_until: dt.datetime | None
    import_batch: int | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_brand(number: PhoneNumber) -> str:
        return number.brand.code

    @staticmethod
    def resolve_import_batch(number: PhoneNumber) -> int | None:
        return number.import_batch_id


class ReserveIn(ObjectIn):
    reference: str = Field("", max_length=120, description="What the reservation is for (an order reference); "
                                                           "reserving again with the same reference extends it")
    ttl_minutes: int | None = Field(None, ge=1, le=60 * 24 * 30,
                                    description="How long it holds (default: the brand's reservation minutes)")


class ReleaseIn(ObjectIn):
    reference: str = Field("", max_length=120, description="If given, the reservation must be for this reference")


class NumberGroupOut(Schema):
    id: int
    brand: str
    code: str
    name: str
    one_time_price: str = Field(description="Exact decimal in the currency, as text (\"49.00\")")
    currency: str
    quarantine_days: int | None = Field(description="None: the brand's setting")
    is_active: bool

    @staticmethod
    def resolve_brand(group: NumberGroup) -> str:
        return group.brand.code

    @staticmethod
    def resolve_one_time_price(group: NumberGroup) -> str:
        return format_amount(group.one_time_price, minor_unit(group.currency))


class RowErrorOut(Schema):
    line: int | None = Field(description="The file's line (the header is line 1)")
    field: str
    message: str


def row_error(error) -> dict:
    """A RowError, or a stored "line N: field: reason" text, as a RowErrorOut."""
    if not isinstance(error, str):
        return {"line": error.line, "field": error.field, "message": error.message}
    match = STORED_ERROR.fullmatch(error)
    if match is None:
        return {"line": None, "field": "", "message": error}
    return {"line": int(match.group(1)), "field": match.group(2), "message": match.group(3)}


class ImportBatchOut(Schema):
    id: int
    href: str
    brand: str
    kind: ImportBatch.Kind
    file_name: str
    sha256: str
    rows_read: int
    rows_imported: int
    rows_unchanged: int
    rows_failed: int
    errors_truncated: int = Field(description="Reasons not kept (beyond the first 10,000)")
    created_at: dt.datetime
    created_by: str | None
    actor_label: str
    job: int | None = Field(description="The background job that ran it, if any")

    @staticmethod
    def resolve_href(batch: ImportBatch) -> str:
        return f"/api/v1/inventory/uploads/{batch.pk}"

    @staticmethod
    def resolve_brand(batch: ImportBatch) -> str:
        return batch.brand.code

    @staticmethod
    def resolve_created_by(batch: ImportBatch) -> str | None:
        return batch.created_by.username if batch.created_by_id else None

    @staticmethod
    def resolve_job(batch: ImportBatch) -> int | None:
        return batch.job_id


class ImportBatchDetail(ImportBatchOut):
    errors: list[RowErrorOut] = Field(description="Every bad row with its line and reason, in line order")

    @staticmethod
    def resolve_errors(batch: ImportBatch) -> list[dict]:
        # Right after an upload, every reason (`all_errors`); later, the ones the batch kept.
        return [row_error(error) for error in getattr(batch, "all_errors", batch.errors)]
