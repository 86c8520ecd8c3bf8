"""Shapes of /api/v1/billruns and /api/v1/billing/adjustments. Amounts are strings with their exact
digits (the run summary's amounts have the currency's minor-unit decimals)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import BeforeValidator, StringConstraints, WithJsonSchema

from telora.api.guard import plain_decimal
from telora.billing.models import AMOUNT
from telora.core import rights
from telora.core.models import Brand
from telora.core.money import minor_unit
from telora.core.services.actors import PermissionDeniedError, ServiceError

ADJUSTMENT_REASON_MAX = 300  # Adjustment.reason's length
_WHOLE = AMOUNT["max_digits"] - AMOUNT["decimal_places"]
AMOUNT_JSON = {"anyOf": [{"type": "number"}, {"type": "string", "maxLength": AMOUNT["max_digits"] + 2,
                                              "pattern": rf"^[+-]?\d{{1,{_WHOLE}}}(\.\d{{1,{AMOUNT['decimal_places']}}})?$"}]}
RUNS_BASE = "/api/v1/billruns"
ADJUSTMENTS_BASE = "/api/v1/billing/adjustments"


def brand_for(who, code: str | None, perm: str) -> Brand:
    """The named brand (any case) among those the caller sees, or the only one where it holds `perm`.
    An unknown or unseen brand is a 400 naming `brand`; a seen one without `perm` a 403."""
    if code:
        brand = Brand.objects.for_user(who).filter(code__iexact=code.strip()).first()
        if brand is None:
            raise ServiceError(f"brand: unknown brand {code!r}", field="brand")
        if not rights.has_perm(who, brand, perm):
            raise PermissionDeniedError(f"You lack {perm} in {brand.code}.")
        return brand
    reach = rights.brands_with(who, perm)
    if reach is rights.ALL or len(reach) != 1:
        raise ServiceError("brand: give the brand code", field="brand")
    return Brand.objects.get(pk=reach[0])


class RunIn(Schema):
    brand: str | None = Field(None, max_length=40, description="Brand code (may be left out when you reach one "
                                                               "brand only)")
    cycle: str = Field(max_length=40, description="Bill cycle code, e.g. M01")
    period: str = Field(max_length=7, description="The period's month, YYYY-MM (the period of the cycle starting "
                                                  "in it)")
    groups: list[Annotated[str, StringConstraints(max_length=40)]] = Field(
        default_factory=list, max_length=1000, description="Billing group codes; none: every account")
    kind: Literal["test", "production"] = Field("test", description="test (billing.change) or production "
                                                "(billing.approve; only after the period ended)")


class RunOut(Schema):
    id: int
    href: str
    brand: str
    kind: str
    status: str = Field(description="queued, running, held (a production run from an approval that differs "
                                    "from its test run: see summary.approval_check, then confirm), done, failed")
    cycle: str
    period_start: dt.date
    period_end: dt.date = Field(description="Exclusive: the first day of the next period")
    groups: list[str]
    accounts_total: int
    accounts_done: int
    progress: float = Field(description="Percent of the accounts done")
    issue_date: dt.date | None
    created_at: dt.datetime
    created_by: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    approved_from: int | None = Field(description="The test run this production run was approved from")
    job: int | None = Field(description="The background job executing the run (/api/v1/jobs/{id})")

    @staticmethod
    def resolve_href(run) -> str:
        return f"{RUNS_BASE}/{run.pk}"

    @staticmethod
    def resolve_brand(run) -> str:
        return run.brand.code

    @staticmethod
    def resolve_cycle(run) -> str:
        return run.cycle.code

    @staticmethod
    def resolve_progress(run) -> float:
        if run.status == "done":
            return 100.0
        return round(100 * run.accounts_done / run.accounts_total, 1) if run.accounts_total else 0.0

    @staticmethod
    def resolve_approved_from(run) -> int | None:
        return run.approved_from_id

    @staticmethod
    def resolve_job(run) -> int | None:
        return run.job_id


class RunDetail(RunOut):
    summary: dict[str, Any] = Field(description="Counts and totals per charge type and tax code, parked accounts "
                                                "and the usage reconciliation (empty until the run is done); for a "
                                                "production run from an approval, `approval_check`: identical or "
                                                "the differences from the approved test run")


class RunFilter(Schema):
    brand: str | None = Field(None, description="Brand code")
    kind: Literal["test", "production"] | None = None
    status: str | None = None
    cycle: str | None = Field(None, description="Bill cycle code")
    period: str | None = Field(None, description="YYYY-MM: runs whose period starts in that month")


class CompareOut(Schema):
    a: int
    b: int
    new: list[str] = Field(description="Accounts with an invoice in b and none in a")
    removed: list[str] = Field(description="Accounts with an invoice in a and none in b")
    changed: list[dict[str, Any]] = Field(description="account, total_a, total_b, only_a and only_b: the lines "
                                                      "(subscription, kind, description, period start and end, "
                                                      "amount) found in one run only")
    same: int


class AdjustmentIn(Schema):
    account: str = Field(max_length=40, description="Billing account number")
    amount: Annotated[Decimal, BeforeValidator(plain_decimal), WithJsonSchema(AMOUNT_JSON)] = Field(
        max_digits=AMOUNT["max_digits"], decimal_places=AMOUNT["decimal_places"],
        description="Net amount in the account's currency: negative credits the customer, positive debits; at "
                    f"most {AMOUNT['max_digits'] - AMOUNT['decimal_places']} digits before the point and the "
                    "currency's minor-unit decimals after it; written with its digits (no exponent)")
    reason: str = Field(max_length=ADJUSTMENT_REASON_MAX, description="Why (shown on the invoice and audited)")
    subscription: int | None = Field(None, description="A subscription billed on the account")
    tax_code: str = Field("", max_length=40, description="Tax code; empty: the subscription's or the default")


class AdjustmentOut(Schema):
    id: int
    href: str
    brand: str
    account: str
    subscription: int | None
    amount: str
    currency: str
    reason: str
    tax_code: str
    created_at: dt.datetime
    created_by: str
    invoice: str | None = Field(description="The invoice that billed it (its number); null while pending")
    status: str = Field(description="pending or billed")

    @staticmethod
    def resolve_href(adj) -> str:
        return f"{ADJUSTMENTS_BASE}/{adj.pk}"

    @staticmethod
    def resolve_brand(adj) -> str:
        return adj.brand.code

    @staticmethod
    def resolve_account(adj) -> str:
        return adj.account.number

    @staticmethod
    def resolve_subscription(adj) -> int | None:
        return adj.subscription_id

    @staticmethod
    def resolve_amount(adj) -> str:
        return str(adj.amount.quantize(Decimal(1).scaleb(-minor_unit(adj.account.currency))))

    @staticmethod
    def resolve_currency(adj) -> str:
        return adj.account.currency

    @staticmethod
    def resolve_invoice(adj) -> str | None:
        return (adj.invoice.number or f"draft {adj.invoice_id}") if adj.invoice_id else None

    @staticmethod
    def resolve_status(adj) -> str:
        return "billed" if adj.invoice_id else "pending"


class AdjustmentFilter(Schema):
    brand: str | None = Field(None, description="Brand code")
    account: str | None = Field(None, description="Billing account number")
    status: Literal["pending", "billed"] | None = None
