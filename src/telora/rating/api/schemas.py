"""Shapes of /api/v1/usage (usage files, JSON batches, failed records), and `ExactBody`: a JSON
body whose numbers with a fraction are read as Decimal, never through float.

ninja parses a JSON body with `json.loads`, which turns `0.1` into a float before any schema
sees it. An argument declared `payload: ExactBody[SomeSchema]` is read with
`json.loads(parse_float=Decimal)` instead, so an amount written as a JSON number keeps exactly
its digits (and one written as a string does too). Only the operations that take amounts use it;
the rest of the API is untouched.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from ninja import Field, Schema
from ninja.errors import HttpError
from ninja.params.models import Body, BodyModel
from pydantic import BeforeValidator, ConfigDict, WithJsonSchema

from telora.rating.models import FAILED_STATUSES, FILE_STATUSES

USAGE_BASE = "/api/v1/usage"


class _ExactBodyModel(BodyModel):
    @classmethod
    def get_request_data(cls, request, api, path_params):
        try:
            body = request.body
        except RequestDataTooBig:
            raise HttpError(413, f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes; send it "
                                 "in smaller parts (or a usage file as an upload)") from None
        if not body:
            return None
        try:
            data = json.loads(body, parse_float=Decimal)
        except (ValueError, RecursionError) as exc:
            message = "Cannot parse request body" + (f" ({exc})" if settings.DEBUG else "")
            raise HttpError(400, message) from exc
        varname = getattr(cls, "__read_from_single_attr__", None)
        return {varname: data} if varname else data


class _ExactBody(Body):
    _model = _ExactBodyModel

    @classmethod
    def _param_source(cls) -> str:
        return "body"


class _ExactBodyShortcut:
    def __getitem__(self, schema):
        return Annotated[schema, _ExactBody(...)]


ExactBody = _ExactBodyShortcut()


def _text(value: Any) -> str:
    """A record field as the text the canonical CSV would hold: strings as they are, whole numbers
    and exact decimals written out, null as empty. Anything else is refused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise ValueError("write a string or a number, not true/false")
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    raise ValueError("write a string or a number")


Text = Annotated[str, BeforeValidator(_text), WithJsonSchema({"type": ["string", "number", "null"]})]


# ---- usage files ---------------------------------------------------------------------------


class UsageFileOut(Schema):
    id: int
    href: str
    brand: str
    name: str
    source: str
    format: str = Field(description="csv, asterisk, freeswitch, ber; records for a JSON batch")
    status: str = Field(description=f"{', '.join(FILE_STATUSES)}: received until a background intake reads it, "
                                    "staged until its last batch is rated, failed when refused")
    error: str = Field("", description="Why the file was refused (status failed), e.g. too many bad lines")
    job: int | None = Field(None, description="The background job taking a large upload in (/api/v1/jobs/{id})")
    size: int
    read: int = Field(description="Records read (rated, failed, duplicate, ignored and those still pending)")
    rated: int
    failed: int
    duplicate: int
    ignored: int
    received_at: dt.datetime
    staged_at: dt.datetime | None = None
    rated_at: dt.datetime | None = None

    @staticmethod
    def resolve_href(usage_file) -> str:
        return f"{USAGE_BASE}/files/{usage_file.pk}"

    @staticmethod
    def resolve_brand(usage_file) -> str:
        return usage_file.brand.code

    @staticmethod
    def resolve_received_at(usage_file) -> dt.datetime:
        return usage_file.created_at

    @staticmethod
    def resolve_job(usage_file) -> int | None:
        return getattr(usage_file, "job_id", None)


class BatchesOut(Schema):
    pending: int
    done: int
    records: int = Field(description="Records in all batches")
    records_done: int = Field(description="Records in the batches already rated")


class UsageFileDetail(UsageFileOut):
    batches: BatchesOut
    progress: float = Field(description="Percent of the staged records whose batch is rated (100 when none)")
    parse_seconds: float
    rate_seconds: float
    persist_seconds: float

    @staticmethod
    def resolve_batches(usage_file) -> dict:
        return usage_file.batch_counts


class UsageFileFilter(Schema):
    brand: str | None = Field(None, description="Brand code")
    source: str | None = None
    status: str | None = Field(None, description=", ".join(FILE_STATUSES))


class UploadForm(Schema):
    format: str | None = Field(None, description="csv, asterisk, freeswitch or ber")
    source: str | None = Field(None, description="Who sent the records; a record id is charged once per source")
    brand: str | None = Field(None, description="Brand code; may be left out when you may import into one brand")


# ---- JSON batches ----------------------------------------------------------------------------


class RecordIn(Schema):
    """One usage record with the columns of the canonical CSV, read by the same rules."""

    model_config = ConfigDict(extra="forbid")

    record_id: Text = Field("", description="The source's unique id (required)")
    service: Text = Field("", description="voice, sms, mms, data or content (required)")
    a_number: Text = Field("", description="The served subscriber: E.164, '+' or '00' allowed (required)")
    b_number: Text = Field("", description="The other party or content code (required for voice, sms, mms, "
                                          "content)")
    start_time: Text = Field("", description="ISO 8601 with an offset (required)")
    duration: Text = Field("", description="Seconds (voice): a whole number")
    volume: Text = Field("", description="Bytes (data): a whole number")
    quantity: Text = Field("", description="Messages or items; 1 when left out")
    location: Text = Field("", description="ISO 3166 alpha-2 country where the subscriber was; empty for home")
    charge: Text = Field("", description="A pre-priced amount (content, or every record of a pre-rated OCS "
                                         "source): a string or an exact JSON number")
    balance_after: Text = Field("", description="The prepaid balance the OCS reports after this record (pre-rated "
                                                "sources): a string or an exact JSON number")


class RecordBatchIn(Schema):
    brand: str | None = Field(None, max_length=40, description="Brand code; may be left out when you may import "
                                                               "into one brand")
    source: str = Field(max_length=64, description="Who sent the records; a record id is charged once per source")
    records: list[RecordIn]


# ---- failed records --------------------------------------------------------------------------


class FailedOut(Schema):
    id: int
    href: str
    brand: str
    source: str
    file: int | None
    record_id: str
    line: int
    reason: str
    detail: str
    status: str = Field(description=", ".join(FAILED_STATUSES))
    created_at: dt.datetime

    @staticmethod
    def resolve_href(record) -> str:
        return f"{USAGE_BASE}/failed/{record.pk}"

    @staticmethod
    def resolve_brand(record) -> str:
        return record.brand.code

    @staticmethod
    def resolve_file(record) -> int | None:
        return record.file_id


class FailedDetail(FailedOut):
    original: dict = Field(description="The record's fields as read, or {'text': line} for an unreadable line")
    file_name: str | None = None

    @staticmethod
    def resolve_file_name(record) -> str | None:
        return record.file.name if record.file_id else None


class FailedFilter(Schema):
    brand: str | None = Field(None, description="Brand code")
    reason: str | None = Field(None, description="UNKNOWN_SUBSCRIBER, NO_RATE, PARSE_ERROR, DUPLICATE, ...")
    status: str = Field("open", description=f"{', '.join(FAILED_STATUSES)} or all")
    source: str | None = None
    file: int | None = Field(None, description="Usage file id")
    a_number: str | None = None


class FailedIdsIn(Schema):
    ids: list[int] = Field(min_length=1, max_length=10_000, description="Failed record ids (at most 10,000)")


class RerateOut(Schema):
    requeued: int = Field(description="Records taken in again (now 'rerated'); follow them in `files`")
    skipped: dict[str, int] = Field(description="Records not taken in, by reason (PARSE_ERROR and DUPLICATE "
                                                "records are never re-rated; UNREADABLE: the original is no record)")
    missing: list[int] = Field(description="Ids that are not open failed records you may see")
    files: list[UsageFileOut] = Field(description="The batches the records were staged in, one per source")


class DeleteOut(Schema):
    deleted: int
    missing: list[int] = Field(description="Ids that are not open failed records you may see")
