"""/api/v1/billing/adjustments: created with exact amounts and the rights they need, billed on the
next production invoice, and brand B sees nothing of brand A."""

import datetime as dt
import json
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from telora.billing.models import Adjustment, BillRun, Invoice
from telora.billing.services import execute_run, start_run
from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services.users import create_api_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]


def cph(text):
    """A Copenhagen moment (as tests/billing/conftest.py's, which another conftest may shadow)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Copenhagen"))


ADJ = "/api/v1/billing/adjustments"
AT = "2026-04-02T06:00"
CSR = ["billing.view", "billing.adjust"]


class Api:
    def __init__(self, token):
        self.client, self.headers = Client(), {"Authorization": f"Bearer {token}"}

    def get(self, path, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path, data):
        body = data if isinstance(data, str) else json.dumps(data)
        return self.client.post(path, body, content_type="application/json", headers=self.headers)


@pytest.fixture
def api_for(system, make_user):
    def make(username, grants):
        user = make_user(username, grants)
        _key, token = create_api_key(actor=system, at=clock.now(), user=user, name="t", brands=list(grants),
                                     permissions=sorted({p for ps in grants.values() for p in ps}))
        return Api(token)

    return make


@pytest.fixture
def basis(account_for, subscribe):
    account = account_for("Kunde Basis")
    subscribe(account, "2026-03-11")
    return account


def test_a_credit_is_created_exactly_and_billed_on_the_next_invoice(nord, basis, api_for, system):
    csr = api_for("csr", {nord: CSR})
    # a JSON number is read exactly, never through float
    raw = json.dumps({"account": basis.number, "amount": "AMOUNT", "reason": "Outage 3 days"})
    raw = raw.replace('"AMOUNT"', "-25.50")
    response = csr.post(ADJ, raw)
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == body["href"] == f"{ADJ}/{body['id']}"
    assert {k: body[k] for k in ("brand", "account", "amount", "currency", "reason", "status", "invoice")} == {
        "brand": "NORD", "account": basis.number, "amount": "-25.50", "currency": "DKK", "reason": "Outage 3 days",
        "status": "pending", "invoice": None}
    assert Adjustment.objects.get().amount == D("-25.50")
    assert AuditEvent.objects.get(action="adjustment_create").actor_label.startswith("api-key:")

    with time_machine.travel(cph(AT), tick=False):
        run = execute_run(start_run(nord, "M01", "2026-03", (), "production", actor=system, at=cph(AT)),
                          at=cph(AT))
    invoice = Invoice.objects.get(run=run)
    # 33.19 + 49.00 - 25.50 = 56.69 net, VAT 25 % 14.1725 -> 14.17, total 70.86
    assert (invoice.net, invoice.tax, invoice.total) == (D("56.69"), D("14.17"), D("70.86"))
    billed = csr.get(ADJ, status="billed").json()
    assert [(a["id"], a["status"], a["invoice"]) for a in billed] == [(body["id"], "billed", invoice.number)]
    assert csr.get(ADJ, status="pending").json() == []
    assert csr.get(f"{ADJ}/{body['id']}").json()["invoice"] == invoice.number


def test_amounts_and_rights_are_checked(nord, basis, api_for):
    csr, viewer = api_for("csr", {nord: CSR}), api_for("viewer", {nord: ["billing.view"]})
    cases = [({"amount": "10.005"}, "amount"), ({"amount": 0}, "amount"), ({"amount": "ten"}, "amount"),
             ({"reason": "  "}, "reason"), ({"account": "NOPE"}, "account"), ({"subscription": 999999}, "subscription")]
    for change, field in cases:
        bad = csr.post(ADJ, {"account": basis.number, "amount": "5.00", "reason": "goodwill", **change})
        assert (bad.status_code, bad.json()["field"]) == (400, field), change
    # from the large-adjustment amount (500.00) up billing.adjust_large is needed too
    assert csr.post(ADJ, {"account": basis.number, "amount": "-500.00", "reason": "big"}).status_code == 403
    big = api_for("lead", {nord: CSR + ["billing.adjust_large"]})
    assert big.post(ADJ, {"account": basis.number, "amount": "-500.00", "reason": "big"}).status_code == 201
    assert viewer.post(ADJ, {"account": basis.number, "amount": "5.00", "reason": "x"}).status_code == 403
    assert [a["amount"] for a in viewer.get(ADJ).json()] == ["-500.00"]
    assert Adjustment.objects.count() == 1


def test_brand_b_sees_nothing_of_brand_a(nord, basis, api_for, make_brand):
    other = make_brand("OTHER", currency="EUR")
    stranger = api_for("stranger", {other: CSR + ["billing.adjust_large"]})
    csr = api_for("csr", {nord: CSR})
    made = csr.post(ADJ, {"account": basis.number, "amount": "12.00", "reason": "late fee"}).json()
    response = stranger.get(ADJ)
    assert response.json() == [] and response["X-Total-Count"] == "0"
    assert stranger.get(f"{ADJ}/{made['id']}").status_code == 404
    bad = stranger.post(ADJ, {"account": basis.number, "amount": "-12.00", "reason": "sneaky"})
    assert (bad.status_code, bad.json()["field"]) == (400, "account")
    assert [a["id"] for a in csr.get(ADJ).json()] == [made["id"]]
    assert BillRun.objects.count() == 0 and Adjustment.objects.count() == 1
