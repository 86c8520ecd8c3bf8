"""TMF654 prepay balance: buckets of prepaid subscriptions, top-ups and adjustments with exact
amounts, a top-up then rating lowering the balance from there, rights and brand isolation."""

import json
from decimal import Decimal

import pytest
from rating_api_helpers import RATER, ApiClient, client_for, exact

from telora.api.tmf import ExactJSONRenderer
from telora.core import clock
from telora.rating.models import PrepaidBalance, PrepaidBalanceEntry
from telora.rating.services import import_usage_file, rate_pending

D = Decimal
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]

BASE = "/tmf-api/prepayBalanceManagement/v4"
HEADER = b"record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"


def spec_fields(definition):
    spec = json.loads(open("/work/shared/tmf/TMF654-PrepayBalance-v4.0.0.swagger.json").read())
    return set(spec["definitions"][definition]["properties"])


@pytest.fixture
def prepaid(line_for):
    return line_for("4520000001", plan="MOB_PRE")


@pytest.fixture
def postpaid(line_for):
    return line_for("4520000002")


@pytest.fixture
def clerk(nord, system, make_user):
    return client_for(system, make_user, "cleo", {nord: RATER})


def test_a_bucket_per_prepaid_subscription(prepaid, postpaid, clerk):
    listed = clerk.get(f"{BASE}/bucket")
    assert listed.status_code == 200, listed.content
    assert [b["id"] for b in listed.json()] == [str(prepaid.pk)] and listed["X-Total-Count"] == "1"
    body = exact(clerk.get(f"{BASE}/bucket/{prepaid.pk}"))
    assert set(body) <= spec_fields("Bucket")
    customer, account = prepaid.customer, prepaid.billing_account
    assert body == {
        "id": str(prepaid.pk), "href": f"{BASE}/bucket/{prepaid.pk}", "@type": "Bucket",
        "name": "Prepaid balance 4520000001", "description": "Prepaid credit of mobile_prepaid 4520000001",
        "isShared": False, "usageType": "DKK", "status": "active",
        "remainingValue": {"amount": D("0"), "units": "DKK"}, "remainingValueName": "0.00 DKK",
        "logicalResource": [{"id": "4520000001", "name": "MSISDN", "value": "4520000001", "@referredType": "MSISDN"}],
        "product": [{"id": str(prepaid.pk), "href": f"/tmf-api/productInventory/v4/product/{prepaid.pk}",
                     "name": "4520000001", "@referredType": "Product"}],
        "partyAccount": {"id": str(account.pk), "href": f"/tmf-api/accountManagement/v4/billingAccount/{account.pk}",
                         "name": account.name, "@referredType": "BillingAccount"},
        "relatedParty": [{"id": str(customer.pk), "href": f"/tmf-api/customerManagement/v4/customer/{customer.pk}",
                          "name": customer.name, "role": "customer", "@referredType": "Customer"}],
    }
    assert clerk.get(f"{BASE}/bucket/{postpaid.pk}").status_code == 404
    assert clerk.get(f"{BASE}/bucket", **{"logicalResource.value": "+45 20 00 00 01"}).json()[0]["id"] == str(
        prepaid.pk)
    assert clerk.get(f"{BASE}/bucket", **{"relatedParty.id": str(postpaid.customer_id)}).json() == []
    assert set(clerk.get(f"{BASE}/bucket", fields="remainingValue").json()[0]) == {
        "id", "href", "@type", "remainingValue"}


def test_a_top_up_then_rating_lowers_the_balance_from_there(nord, prepaid, clerk, system):
    response = clerk.post(f"{BASE}/topupBalance", {"amount": {"amount": D("20.125"), "units": "DKK"},
                                                   "bucket": {"id": str(prepaid.pk)}, "reason": "voucher 77"})
    assert response.status_code == 201, response.content
    body = exact(response)
    assert set(body) <= spec_fields("TopupBalance")
    entry = PrepaidBalanceEntry.objects.get()
    assert response["Location"] == f"{BASE}/topupBalance/{entry.pk}" == body["href"]
    assert (body["@type"], body["status"], body["reason"], body["usageType"]) == (
        "TopupBalance", "confirmed", "voucher 77", "DKK")
    assert body["amount"] == {"amount": D("20.125"), "units": "DKK"}
    assert body["bucket"]["id"] == body["product"]["id"] == str(prepaid.pk)
    impacted = body["impactedBucket"][0]
    assert (impacted["amountBefore"], impacted["amountAfter"]) == ({"amount": D("0"), "units": "DKK"},
                                                                   {"amount": D("20.125"), "units": "DKK"})
    assert impacted["item"] == [{"itemType": "credit", "name": "topup", "amount": {"amount": D("20.125"),
                                                                                    "units": "DKK"}}]
    assert (entry.amount, entry.balance_after, entry.cause, entry.reference) == (D("20.125"), D("20.125"), "topup",
                                                                                  "voucher 77")

    # an SMS (0.39) and a 125 s call to a Danish fixed line (PRE_STD: 1.020833, as in the prepaid example)
    import_usage_file(nord, HEADER + b"p-1,sms,4520000001,4533123456,2026-10-05T09:15:00+02:00,,,1,,\n"
                      b"p-2,voice,4520000001,4533123456,2026-10-05T09:16:00+02:00,125,,,,\n",
                      format="csv", source="msc", actor=system, at=clock.now())
    rate_pending(nord)
    bucket = exact(clerk.get(f"{BASE}/bucket/{prepaid.pk}"))
    assert bucket["remainingValue"] == {"amount": D("18.714167"), "units": "DKK"}  # 20.125 - 0.39 - 1.020833
    assert bucket["remainingValueName"] == "18.71 DKK"
    assert b'"amount": 18.714167' in clerk.get(f"{BASE}/bucket/{prepaid.pk}").content

    again = exact(clerk.post(f"{BASE}/topupBalance", {"amount": {"amount": "1.285833"},
                                                      "logicalResource": {"value": "+4520000001"}}))
    assert again["impactedBucket"][0]["amountBefore"]["amount"] == D("18.714167")
    assert again["impactedBucket"][0]["amountAfter"]["amount"] == D("20")
    assert PrepaidBalance.objects.get(subscription=prepaid).balance == D("20.000000")

    listed = clerk.get(f"{BASE}/topupBalance")
    assert [t["id"] for t in listed.json()] == [again["id"], body["id"]] and listed["X-Total-Count"] == "2"
    assert exact(clerk.get(f"{BASE}/topupBalance/{body['id']}")) == body
    assert clerk.get(f"{BASE}/topupBalance", **{"bucket.id": "0"}).json() == []
    usage = PrepaidBalanceEntry.objects.filter(cause="usage").first()
    assert clerk.get(f"{BASE}/topupBalance/{usage.pk}").status_code == 404  # usage is not a top-up


def test_exact_amounts_in_and_out(prepaid, clerk):
    payload = {"amount": {"amount": D("123456789012.345678")}, "product": {"id": str(prepaid.pk)}}
    assert b'"amount": 123456789012.345678}' in ExactJSONRenderer().render(None, payload, response_status=200).encode()
    response = clerk.post(f"{BASE}/topupBalance", payload)
    assert response.status_code == 201, response.content
    assert exact(response)["amount"]["amount"] == D("123456789012.345678")
    assert PrepaidBalance.objects.get(subscription=prepaid).balance == D("123456789012.345678")


def test_adjustments_credit_and_debit(prepaid, clerk):
    credit = clerk.post(f"{BASE}/adjustBalance", {"amount": {"amount": "5", "units": "DKK"},
                                                   "adjustType": "goodWillCredit", "bucket": {"id": str(prepaid.pk)},
                                                   "reason": "outage"})
    assert credit.status_code == 201, credit.content
    debit = clerk.post(f"{BASE}/adjustBalance", {"amount": {"amount": D("1.5")}, "adjustType": "generalDebit",
                                                 "bucket": {"id": str(prepaid.pk)}})
    assert debit.status_code == 201, debit.content
    body = exact(debit)
    assert set(body) <= spec_fields("AdjustBalance")
    assert (body["@type"], body["adjustType"], body["amount"]["amount"]) == ("AdjustBalance", "generalDebit", D("1.5"))
    assert body["impactedBucket"][0]["amountAfter"]["amount"] == D("3.5")
    assert body["impactedBucket"][0]["item"][0]["itemType"] == "debit"
    first = exact(clerk.get(f"{BASE}/adjustBalance/{credit.json()['id']}"))
    assert (first["adjustType"], first["reason"]) == ("goodWillCredit", "outage")
    assert [a["adjustType"] for a in clerk.get(f"{BASE}/adjustBalance").json()] == ["generalDebit", "goodWillCredit"]
    assert clerk.get(f"{BASE}/topupBalance").json() == []
    bad = clerk.post(f"{BASE}/adjustBalance", {"amount": {"amount": "1"}, "adjustType": "refund",
                                                "bucket": {"id": str(prepaid.pk)}})
    assert (bad.status_code, bad.json()["field"]) == (400, "adjustType")


@pytest.mark.parametrize(("body", "field"), [
    ({"amount": {"amount": "0"}}, "amount.amount"),
    ({"amount": {"amount": "-5"}}, "amount.amount"),
    ({"amount": {"amount": "1.0000001"}}, "amount.amount"),
    ({"amount": {"amount": "ten"}}, "amount.amount"),
    ({"amount": {"amount": "5", "units": "EUR"}}, "amount.units"),
    ({}, "amount"),
])
def test_top_up_refusals_name_the_field(prepaid, clerk, body, field):
    response = clerk.post(f"{BASE}/topupBalance", {**body, "bucket": {"id": str(prepaid.pk)}})
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert not PrepaidBalanceEntry.objects.exists()


def test_top_up_needs_a_prepaid_bucket(prepaid, postpaid, clerk):
    missing = clerk.post(f"{BASE}/topupBalance", {"amount": {"amount": "5"}})
    assert (missing.status_code, missing.json()["field"]) == (400, "bucket.id")
    assert clerk.post(f"{BASE}/topupBalance", {"amount": {"amount": "5"},
                                               "bucket": {"id": str(postpaid.pk)}}).status_code == 404
    mixed = clerk.post(f"{BASE}/topupBalance", {"amount": {"amount": "5"}, "bucket": {"id": str(prepaid.pk)},
                                                "product": {"id": str(postpaid.pk)}})
    assert (mixed.status_code, mixed.json()["field"]) == (400, "product.id")


def test_rights_and_brand_isolation(nord, prepaid, brand_b, clerk, system, make_user):
    clerk.post(f"{BASE}/topupBalance", {"amount": {"amount": "5"}, "bucket": {"id": str(prepaid.pk)}})
    entry = PrepaidBalanceEntry.objects.get()
    viewer = client_for(system, make_user, "vic", {nord: ["rating.view"]})
    assert viewer.get(f"{BASE}/bucket/{prepaid.pk}").status_code == 200
    assert viewer.get(f"{BASE}/topupBalance/{entry.pk}").status_code == 200
    assert viewer.post(f"{BASE}/topupBalance", {"amount": {"amount": "5"},
                                                "bucket": {"id": str(prepaid.pk)}}).status_code == 403
    no_rating = client_for(system, make_user, "carl", {nord: ["customers.view"]})
    for path in ("bucket", f"bucket/{prepaid.pk}", "topupBalance", "adjustBalance"):
        assert no_rating.get(f"{BASE}/{path}").status_code == 403
    assert ApiClient().get(f"{BASE}/bucket").status_code == 401

    other = client_for(system, make_user, "bob", {brand_b: RATER})
    assert other.get(f"{BASE}/bucket").json() == []
    assert other.get(f"{BASE}/bucket/{prepaid.pk}").status_code == 404
    assert other.get(f"{BASE}/topupBalance").json() == []
    assert other.get(f"{BASE}/topupBalance/{entry.pk}").status_code == 404
    refused = other.post(f"{BASE}/topupBalance", {"amount": {"amount": "5"}, "bucket": {"id": str(prepaid.pk)}})
    assert refused.status_code == 404
    assert PrepaidBalance.objects.get(subscription=prepaid).balance == D("5")
