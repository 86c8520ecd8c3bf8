"""TMF678 Customer Bill Management: invoices as customerBill with exact amounts and a PDF link,
lines as appliedCustomerBillingRate, attribute selection, and brand B seeing nothing of brand A."""

import datetime as dt
import json
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine
from billing_helpers import pdf_after_job
from django.test import Client

from telora.billing.models import Invoice
from telora.billing.services import execute_run, start_run
from telora.core import clock
from telora.core.services.users import create_api_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]


def cph(text):
    """A Copenhagen moment (as tests/billing/conftest.py's, which another conftest may shadow)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Copenhagen"))


ROOT = "/tmf-api/customerBillManagement/v4"
BILLS = f"{ROOT}/customerBill"
RATES = f"{ROOT}/appliedCustomerBillingRate"
AT = "2026-04-02T06:00"


class Api:
    def __init__(self, token):
        self.client, self.headers = Client(), {"Authorization": f"Bearer {token}"}

    def get(self, path, **params):
        return self.client.get(path, params, headers=self.headers)

    def json(self, path, **params):
        response = self.get(path, **params)
        assert response.status_code == 200, response.content
        return json.loads(response.content, parse_float=D)


@pytest.fixture
def api_for(system, make_user):
    def make(username, grants):
        user = make_user(username, grants)
        _key, token = create_api_key(actor=system, at=clock.now(), user=user, name="t", brands=list(grants),
                                     permissions=sorted({p for ps in grants.values() for p in ps}))
        return Api(token)

    return make


@pytest.fixture
def invoice(nord, account_for, subscribe, rated, system):
    """Mobil Basis from 2026-03-11 and two domestic calls (1.234567 + 0.5): 33.19 + 49.00 + 1.73 =
    83.92 net, VAT 25 % 20.98, total 104.90."""
    account = account_for("Kunde Basis")
    line = subscribe(account, "2026-03-11")
    rated(line, "2026-03-15T10:00", "voice", "DK", "1.234567", quantity=60)
    rated(line, "2026-03-16T10:00", "voice", "DK", "0.5", quantity=30)
    with time_machine.travel(cph(AT), tick=False):
        run = execute_run(start_run(nord, "M01", "2026-03", (), "production", actor=system, at=cph(AT)),
                          at=cph(AT))
    return Invoice.objects.select_related("account__customer").get(run=run)


def test_a_customer_bill_with_exact_amounts_and_its_pdf_link(nord, invoice, api_for, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)  # the PDF's job stores it there
    api = api_for("reader", {nord: ["billing.view"]})
    listed = api.get(BILLS)
    assert listed["X-Total-Count"] == "1"
    bill = api.json(f"{BILLS}/{invoice.pk}")
    assert json.loads(listed.content, parse_float=D) == [bill]
    assert (invoice.net, invoice.tax, invoice.total) == (D("83.92"), D("20.98"), D("104.90"))
    customer = invoice.account.customer
    assert {k: v for k, v in bill.items() if k not in ("lastUpdate",)} == {
        "id": str(invoice.pk), "href": f"{BILLS}/{invoice.pk}", "@type": "CustomerBill",
        "billNo": "INV-2026-000001", "billDate": "2026-04-02T00:00:00+02:00", "category": "normal",
        "paymentDueDate": "2026-04-16T00:00:00+02:00", "runType": "onCycle", "state": "sent",
        "amountDue": {"unit": "DKK", "value": D("104.90")},
        "taxExcludedAmount": {"unit": "DKK", "value": D("83.92")},
        "taxIncludedAmount": {"unit": "DKK", "value": D("104.90")},
        "taxItem": [{"@type": "TaxItem", "taxCategory": bill["taxItem"][0]["taxCategory"], "taxRate": 25,
                     "taxAmount": {"unit": "DKK", "value": D("20.98")}}],
        "billingPeriod": {"startDateTime": "2026-03-01T00:00:00+01:00", "endDateTime": "2026-04-01T00:00:00+02:00"},
        "billingAccount": {"id": str(invoice.account_id), "href": f"/tmf-api/accountManagement/v4/billingAccount/"
                           f"{invoice.account_id}", "name": invoice.account.name, "@referredType": "BillingAccount"},
        "billCycle": {"id": str(invoice.run.cycle_id), "name": "M01", "@referredType": "BillCycle"},
        "billDocument": [{"@type": "Attachment", "id": str(invoice.pk), "url": f"{BILLS}/{invoice.pk}/pdf",
                          "name": "INV-2026-000001.pdf", "mimeType": "application/pdf",
                          "attachmentType": "invoice"}],
        "relatedParty": [{"id": str(customer.pk), "href": f"/tmf-api/customerManagement/v4/customer/{customer.pk}",
                          "name": customer.name, "role": "customer", "@referredType": "Customer"}],
    }
    assert b'"value": 104.90' in listed.content or b'"value":104.90' in listed.content  # a number, exact
    assert api.json(BILLS, fields="billNo") == [{"id": str(invoice.pk), "href": f"{BILLS}/{invoice.pk}",
                                                 "@type": "CustomerBill", "billNo": "INV-2026-000001"}]
    assert api.json(BILLS, state="new") == [] and len(api.json(BILLS, state="sent")) == 1
    assert api.json(BILLS, billNo="INV-2026-000002") == []
    assert len(api.json(BILLS, **{"billingAccount.id": str(invoice.account_id)})) == 1
    assert api.get(BILLS, fields="nope").status_code == 400

    pdf = pdf_after_job(api.get, f"{BILLS}/{invoice.pk}/pdf")  # none stored: a job renders and keeps it
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF") and 'filename="INV-2026-000001.pdf"' in pdf["Content-Disposition"]


def test_a_stored_pdf_is_served_as_it_is(nord, invoice, api_for, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "invoices").mkdir()
    (tmp_path / "invoices" / "INV-2026-000001.pdf").write_bytes(b"%PDF-1.7 stored")
    Invoice.objects.filter(pk=invoice.pk).update(pdf="invoices/INV-2026-000001.pdf")
    api = api_for("reader", {nord: ["billing.view"]})
    assert api.get(f"{BILLS}/{invoice.pk}/pdf").content == b"%PDF-1.7 stored"


def test_the_lines_as_applied_customer_billing_rates(nord, invoice, api_for):
    api = api_for("reader", {nord: ["billing.view"]})
    rates = api.json(RATES, **{"bill.id": str(invoice.pk)})
    assert [(r["type"], r["name"], r["taxExcludedAmount"]["value"]) for r in rates] == [
        ("proration", "Mobil Basis, 21 of 31 days", D("33.19")), ("recurring", "Mobil Basis", D("49.00")),
        ("usage", rates[2]["name"], D("1.73"))]
    usage = rates[2]
    line = invoice.lines.get(kind="usage")
    assert usage == api.json(f"{RATES}/{line.pk}")
    assert {k: usage[k] for k in ("id", "@type", "isBilled", "appliedTax", "bill", "product", "periodCoverage")} == {
        "id": str(line.pk), "@type": "AppliedCustomerBillingRate", "isBilled": True,
        "appliedTax": [{"@type": "AppliedBillingTaxRate", "taxCategory": line.tax_code, "taxRate": 25}],
        "bill": {"id": str(invoice.pk), "href": f"{BILLS}/{invoice.pk}", "name": "INV-2026-000001",
                 "@referredType": "CustomerBill"},
        "product": {"id": str(line.subscription_id), "href": f"/tmf-api/productInventory/v4/product/"
                    f"{line.subscription_id}", "@referredType": "Product"},
        "periodCoverage": {"startDateTime": "2026-03-01T00:00:00+01:00",
                           "endDateTime": "2026-04-01T00:00:00+02:00"}}
    chars = {c["name"]: c["value"] for c in usage["characteristic"]}
    assert (chars["quantity"], chars["service"], chars["zone"]) == (90, "voice", "DK")
    assert [r["type"] for r in api.json(RATES, type="usage,recurring")] == ["recurring", "usage"]
    assert api.json(RATES, **{"product.id": "999999"}) == []


def test_brand_b_sees_nothing_of_brand_a(nord, invoice, api_for, make_brand):
    other = make_brand("OTHER", currency="EUR")
    stranger = api_for("stranger", {other: ["billing.view", "billing.change", "billing.approve"]})
    line = invoice.lines.first()
    assert stranger.json(BILLS) == [] and stranger.json(RATES) == []
    for path in (f"{BILLS}/{invoice.pk}", f"{BILLS}/{invoice.pk}/pdf", f"{RATES}/{line.pk}"):
        assert stranger.get(path).status_code == 404, path
    nobody = api_for("nobody", {nord: ["rating.view"]})
    assert nobody.get(BILLS).status_code == 403 and nobody.get(RATES).status_code == 403
    assert Client().get(BILLS).status_code == 401


def test_its_own_openapi_document(db):
    paths = Client().get(f"{ROOT}/openapi.json").json()["paths"]
    assert {f"{BILLS}", f"{BILLS}/{{id}}", f"{BILLS}/{{id}}/pdf", RATES, f"{RATES}/{{id}}"} <= set(paths)
