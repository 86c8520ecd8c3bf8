"""TMF678 Customer Bill Management v4: invoices as `customerBill` (list, get, and the PDF behind
`billDocument`), invoice lines as `appliedCustomerBillingRate` (list, get).

An Invoice is a CustomerBill: `billNo` its number (a test run's draft has none), `state` "new"
for a draft and "sent" for a final invoice, `category` "normal" or "creditNote", `runType`
"onCycle", `billingPeriod` the period ([start, end) in the brand's timezone), `billDate` the issue
date, `paymentDueDate`, `taxExcludedAmount` / `taxIncludedAmount` / `amountDue` (exact JSON
numbers), `taxItem` one per tax code, `billingAccount`, `relatedParty` the customer, and
`billDocument` one Attachment: the PDF at `/customerBill/{id}/pdf` (the stored file, else made
and kept by a job the request waits for briefly: 202 with the job when it is not done yet).

An InvoiceLine is an AppliedCustomerBillingRate: `type` the line kind (recurring, proration,
credit, discount, one_time, adjustment, usage), `name` its description, `periodCoverage` its
period, `taxExcludedAmount` the line's net, `appliedTax` its tax code and rate (tax is computed per
code on the invoice, so a line carries no tax amount), `product` the subscription, `bill` its
invoice, `isBilled` whether the invoice is final, and `characteristic` quantity, unit price,
service and zone.

Needs billing.view; a bill of another brand is a 404.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse
from ninja import Field, Query, Router, Status

from telora.api.auth import principal, require_perm
from telora.api.errors import ERRORS
from telora.api.jobs import JobOut
from telora.api.paging import Paging, page
from telora.api.tmf import (
    TMF,
    Money,
    Ref,
    TimePeriod,
    TmfSchema,
    day_period,
    id_or_error,
    key,
    select_fields,
    selectable,
    split_values,
    wanted_fields,
)
from telora.billing.documents.contract import file_name
from telora.billing.models import Invoice, InvoiceLine
from telora.core import clock, rights
from telora.core.models import Job
from telora.core.services.actors import Actor, ServiceError

router = Router(tags=["customerBill"])

ROOT = "/tmf-api/customerBillManagement/v4"
BILL_BASE = f"{ROOT}/customerBill"
RATE_BASE = f"{ROOT}/appliedCustomerBillingRate"
ACCOUNT_BASE = "/tmf-api/accountManagement/v4/billingAccount"
CUSTOMER_BASE = "/tmf-api/customerManagement/v4/customer"
PRODUCT_BASE = "/tmf-api/productInventory/v4/product"
STATES = {"draft": "new", "final": "sent"}


class TaxItem(TmfSchema):
    taxCategory: str | None = None
    taxRate: Any = None
    taxAmount: Money | None = None
    type: str = Field("TaxItem", alias="@type")


class Attachment(TmfSchema):
    id: str | None = None
    href: str | None = None
    url: str | None = None
    name: str | None = None
    mimeType: str | None = None
    attachmentType: str | None = None
    type: str = Field("Attachment", alias="@type")


class CustomerBillOut(TmfSchema):
    id: str
    href: str
    billNo: str | None = None
    billDate: dt.datetime | None = None
    category: str | None = None
    lastUpdate: dt.datetime | None = None
    paymentDueDate: dt.datetime | None = None
    runType: str | None = None
    state: str | None = None
    amountDue: Money | None = None
    remainingAmount: Money | None = None
    taxExcludedAmount: Money | None = None
    taxIncludedAmount: Money | None = None
    taxItem: list[TaxItem] | None = None
    billingPeriod: TimePeriod | None = None
    billingAccount: Ref | None = None
    billCycle: Ref | None = None
    billDocument: list[Attachment] | None = None
    relatedParty: list[Ref] | None = None
    type: str = Field("CustomerBill", alias="@type")


class Characteristic(TmfSchema):
    name: str
    value: Any = None
    valueType: str | None = None


class AppliedTax(TmfSchema):
    taxCategory: str | None = None
    taxRate: Any = None
    type: str = Field("AppliedBillingTaxRate", alias="@type")


class AppliedRateOut(TmfSchema):
    id: str
    href: str
    name: str | None = None
    description: str | None = None
    date: dt.datetime | None = None
    type: str | None = Field(None, description="The line kind: recurring, proration, credit, discount, one_time, "
                                               "adjustment, usage")
    isBilled: bool | None = None
    periodCoverage: TimePeriod | None = None
    taxExcludedAmount: Money | None = None
    appliedTax: list[AppliedTax] | None = None
    characteristic: list[Characteristic] | None = None
    bill: Ref | None = None
    billingAccount: Ref | None = None
    product: Ref | None = None
    atType: str = Field("AppliedCustomerBillingRate", alias="@type")


BILL_FIELDS = selectable(CustomerBillOut)
RATE_FIELDS = selectable(AppliedRateOut)


class BillFilter(TmfSchema):
    billNo: str | None = None
    state: str | None = Field(None, description="new (draft) or sent (final); comma-separated: any")
    category: str | None = Field(None, description="normal or creditNote")
    billingAccount_id: str | None = Field(None, alias="billingAccount.id")
    relatedParty_id: str | None = Field(None, alias="relatedParty.id", description="The customer's id")
    billDate_gte: dt.date | None = Field(None, alias="billDate.gte")
    billDate_lt: dt.date | None = Field(None, alias="billDate.lt")
    run: str | None = Field(None, description="Telora: the bill run's id")
    fields: str | None = Field(None, description="Attributes to return, comma-separated")


class RateFilter(TmfSchema):
    bill_id: str | None = Field(None, alias="bill.id", description="The customer bill's id")
    billingAccount_id: str | None = Field(None, alias="billingAccount.id")
    product_id: str | None = Field(None, alias="product.id", description="The subscription's id")
    type: str | None = Field(None, description="Line kinds, comma-separated")
    fields: str | None = Field(None, description="Attributes to return, comma-separated")


def _id(value: str, field: str) -> int:
    return id_or_error(value, field)


def _money(value, currency: str, places: int | None = None) -> dict:
    value = Decimal(value)
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
    return {"unit": currency, "value": value}


def _moment(day: dt.date | None, timezone: str) -> dt.datetime | None:
    return None if day is None else day_period(day, None, timezone)["startDateTime"]


def _account_ref(account) -> dict:
    return {"id": str(account.pk), "href": f"{ACCOUNT_BASE}/{account.pk}", "name": account.name,
            "@referredType": "BillingAccount"}


def _places(invoice: Invoice) -> int:
    from telora.core.money import minor_unit

    return minor_unit(invoice.currency)


def render_bill(invoice: Invoice) -> dict:
    tz, cur, places = invoice.brand.timezone, invoice.currency, _places(invoice)
    customer = invoice.account.customer
    taxes = [{"@type": "TaxItem", "taxCategory": t["code"], "taxRate": Decimal(t["rate"]),
              "taxAmount": _money(t["tax"], cur)} for t in invoice.document.get("taxes", [])]
    return {
        "id": str(invoice.pk), "href": f"{BILL_BASE}/{invoice.pk}", "@type": "CustomerBill",
        "billNo": invoice.number or None,
        "billDate": _moment(invoice.issue_date, tz),
        "category": "creditNote" if invoice.credit_note else "normal",
        "lastUpdate": invoice.created_at,
        "paymentDueDate": _moment(invoice.due_date, tz),
        "runType": "onCycle",
        "state": STATES.get(invoice.status, invoice.status),
        "amountDue": _money(invoice.total, cur, places),
        "taxExcludedAmount": _money(invoice.net, cur, places),
        "taxIncludedAmount": _money(invoice.total, cur, places),
        "taxItem": taxes,
        "billingPeriod": day_period(invoice.period_start, invoice.period_end, tz),
        "billingAccount": _account_ref(invoice.account),
        "billCycle": {"id": str(invoice.run.cycle_id), "name": invoice.run.cycle.code, "@referredType": "BillCycle"},
        "billDocument": [{"@type": "Attachment", "id": str(invoice.pk), "url": f"{BILL_BASE}/{invoice.pk}/pdf",
                          "name": file_name(invoice.document), "mimeType": "application/pdf", "attachmentType": "invoice"}],
        "relatedParty": [{"id": str(customer.pk), "href": f"{CUSTOMER_BASE}/{customer.pk}", "name": customer.name,
                          "role": "customer", "@referredType": "Customer"}],
    }


def _char(name: str, value, value_type: str = "string") -> dict | None:
    if value is None or value == "":
        return None
    return {"name": name, "value": value, "valueType": value_type}


def render_rate(line: InvoiceLine, rates: dict) -> dict:
    invoice = line.invoice
    tz = invoice.brand.timezone
    chars = [_char("quantity", line.quantity.normalize(), "number"),
             _char("unitPrice", None if line.unit_price is None else line.unit_price.normalize(), "number"),
             _char("service", line.service), _char("zone", line.zone), _char("position", line.position, "integer")]
    item = {
        "id": str(line.pk), "href": f"{RATE_BASE}/{line.pk}", "@type": "AppliedCustomerBillingRate",
        "name": line.description, "description": line.description, "type": line.kind,
        "date": _moment(invoice.issue_date, tz),
        "isBilled": invoice.status == "final",
        "taxExcludedAmount": _money(line.amount, invoice.currency, _places(invoice)),
        "appliedTax": ([{"@type": "AppliedBillingTaxRate", "taxCategory": line.tax_code,
                         "taxRate": rates.get(line.tax_code)}] if line.tax_code else []),
        "characteristic": [c for c in chars if c is not None],
        "bill": {"id": str(invoice.pk), "href": f"{BILL_BASE}/{invoice.pk}", "name": invoice.number or None,
                 "@referredType": "CustomerBill"},
        "billingAccount": _account_ref(invoice.account),
    }
    if line.period_start or line.period_end:
        item["periodCoverage"] = day_period(line.period_start, line.period_end, tz)
    if line.subscription_id:
        item["product"] = {"id": str(line.subscription_id), "href": f"{PRODUCT_BASE}/{line.subscription_id}",
                           "@referredType": "Product"}
    return item


def _invoices(request):
    require_perm(request, "billing.view")
    return (Invoice.objects.for_user(principal(request), "view")
            .select_related("brand", "account__customer", "run__cycle"))


def _lines(request):
    require_perm(request, "billing.view")
    rows = InvoiceLine.objects.select_related("invoice__brand", "invoice__account")
    brands = rights.brands_with(principal(request), "billing.view")
    if brands is not rights.ALL:
        rows = rows.filter(invoice__brand_id__in=brands)
    return rows


def _get_invoice(request, id: str) -> Invoice:
    invoice = _invoices(request).filter(pk=key(id)).first()
    if invoice is None:
        raise Http404(f"No customer bill {id}.")
    return invoice


@router.get("/customerBill", response={200: list[CustomerBillOut], **ERRORS}, **TMF)
def list_customer_bills(request, response: HttpResponse, paging: Query[Paging], filters: Query[BillFilter]):
    """Customer bills (invoices, drafts of test runs included), newest first."""
    rows = _invoices(request)
    if filters.billNo:
        rows = rows.filter(number=filters.billNo)
    if filters.state:
        wanted = {db for db, tmf in STATES.items() if tmf in split_values(filters.state)}
        rows = rows.filter(status__in=wanted)
    if filters.category:
        kinds = split_values(filters.category)
        rows = rows.filter(credit_note__in=[k == "creditNote" for k in kinds if k in ("normal", "creditNote")])
    if filters.billingAccount_id:
        rows = rows.filter(account_id=_id(filters.billingAccount_id, "billingAccount.id"))
    if filters.relatedParty_id:
        rows = rows.filter(account__customer_id=_id(filters.relatedParty_id, "relatedParty.id"))
    if filters.billDate_gte:
        rows = rows.filter(issue_date__gte=filters.billDate_gte)
    if filters.billDate_lt:
        rows = rows.filter(issue_date__lt=filters.billDate_lt)
    if filters.run:
        rows = rows.filter(run_id=_id(filters.run, "run"))
    wanted = wanted_fields(filters.fields, BILL_FIELDS)
    return [select_fields(render_bill(i), wanted) for i in page(rows.order_by("-id"), paging, response)]


@router.get("/customerBill/{id}", response={200: CustomerBillOut, **ERRORS}, **TMF)
def retrieve_customer_bill(request, id: str, fields: str | None = None):
    wanted = wanted_fields(fields, BILL_FIELDS)
    return select_fields(render_bill(_get_invoice(request, id)), wanted)


@router.get("/customerBill/{id}/pdf", response={200: None, 202: JobOut, **ERRORS}, summary="The bill's PDF",
            openapi_extra={"responses": {200: {"description": "The invoice as PDF",
                                               "content": {"application/pdf": {}}}}})
def customer_bill_pdf(request, response: HttpResponse, id: str, job: int | None = None):
    """The document linked from `billDocument`: the stored PDF (services.pdfs), else one made by a
    job (`billing.invoice_pdf`, the brand's template and logo, in a bounded worker) and kept. The
    request waits a few seconds for the job; if it is not done by then the answer is 202 with the job
    (`Location`: this URL with `?job=<id>`, the job of the 202; ask it again for the PDF). A template
    that fails is a 409 naming it."""
    from telora.billing.services.pdfs import job_error, request_pdf

    invoice = _get_invoice(request, id)
    name, made_by = request_pdf(invoice, actor=Actor.from_request(request), at=clock.now(), job_id=job)
    if name is None:
        if made_by.status == Job.Status.FAILED:  # the brand's template is at fault, not the request: say so
            raise ServiceError(f"template: the PDF could not be made: {job_error(made_by)}", field="template",
                               code="conflict")
        response["Location"] = f"{BILL_BASE}/{invoice.pk}/pdf?job={made_by.pk}"
        response["Retry-After"] = "2"
        return Status(202, made_by)
    with default_storage.open(name, "rb") as handle:
        data = handle.read()
    pdf = HttpResponse(data, content_type="application/pdf")
    pdf["Content-Disposition"] = f'inline; filename="{file_name(invoice.document)}"'
    return pdf


def _tax_rates(lines) -> dict:
    rates: dict = {}
    for line in lines:
        for tax in line.invoice.document.get("taxes", []):
            rates.setdefault(line.invoice_id, {})[tax["code"]] = Decimal(tax["rate"])
    return rates


def _render_rates(lines, wanted) -> list[dict]:
    rates = _tax_rates(lines)
    return [select_fields(render_rate(line, rates.get(line.invoice_id, {})), wanted) for line in lines]


@router.get("/appliedCustomerBillingRate", response={200: list[AppliedRateOut], **ERRORS}, **TMF)
def list_applied_rates(request, response: HttpResponse, paging: Query[Paging], filters: Query[RateFilter]):
    """Invoice lines, newest invoice first, in their order on the invoice."""
    rows = _lines(request)
    if filters.bill_id:
        rows = rows.filter(invoice_id=_id(filters.bill_id, "bill.id"))
    if filters.billingAccount_id:
        rows = rows.filter(invoice__account_id=_id(filters.billingAccount_id, "billingAccount.id"))
    if filters.product_id:
        rows = rows.filter(subscription_id=_id(filters.product_id, "product.id"))
    if filters.type:
        rows = rows.filter(kind__in=split_values(filters.type))
    wanted = wanted_fields(filters.fields, RATE_FIELDS)
    return _render_rates(page(rows.order_by("-invoice_id", "position", "id"), paging, response), wanted)


@router.get("/appliedCustomerBillingRate/{id}", response={200: AppliedRateOut, **ERRORS}, **TMF)
def retrieve_applied_rate(request, id: str, fields: str | None = None):
    wanted = wanted_fields(fields, RATE_FIELDS)
    line = _lines(request).filter(pk=key(id)).first()
    if line is None:
        raise Http404(f"No applied customer billing rate {id}.")
    return _render_rates([line], wanted)[0]
