"""TM Forum shapes: TMF629 customer, TMF666 billingAccount, TMF637 product (field names, filters, rights)."""

import json
from pathlib import Path

import pytest

from telora.customers.models import Customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept")]
CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
ACCOUNTS = "/tmf-api/accountManagement/v4/billingAccount"
PRODUCTS = "/tmf-api/productInventory/v4/product"
SPECS = Path("/work/shared/tmf")


def spec_fields(file_name: str, definition: str) -> set[str]:
    path = SPECS / file_name
    if not path.exists():
        pytest.skip("the TMF specs are not here")
    return set(json.loads(path.read_text())["definitions"][definition]["properties"])


def test_customer_has_tmf629_fields(csr_api, ann):
    body = csr_api.get(f"{CUSTOMERS}/{ann.pk}").json()
    assert set(body) <= spec_fields("TMF629-Customer-v4.0.0.swagger.json", "Customer")
    assert body["id"] == str(ann.pk) and body["href"] == f"{CUSTOMERS}/{ann.pk}"
    assert (body["@type"], body["name"], body["status"]) == ("Customer", "Ann de Vries", "active")
    assert body["engagedParty"] == {"id": str(ann.pk), "name": "Ann de Vries", "@referredType": "Individual"}
    chars = {c["name"]: c["value"] for c in body["characteristic"]}
    assert chars["customerNumber"] == "C0000001" and chars["familyName"] == "de Vries" and chars["brand"] == "alpha"
    mediums = {m["mediumType"]: m["characteristic"] for m in body["contactMedium"]}
    assert mediums["email"]["emailAddress"] == "Ann.deVries@example.com"
    assert mediums["phone"]["phoneNumber"] == "+31612345678"
    assert mediums["postalAddress"]["postCode"] == "1011 AB"
    assert mediums["postalAddress"]["contactType"] == "legal,billing,installation"
    account = ann.accounts.get()
    assert body["account"] == [{"id": str(account.pk), "href": f"{ACCOUNTS}/{account.pk}", "name": account.name,
                                "@referredType": "BillingAccount"}]
    assert "statusReason" not in body  # absent optional fields are left out


def test_create_and_patch_a_customer_the_tmf_way(csr_api, shop):
    response = csr_api.post(CUSTOMERS, {
        "name": "Acme Trading BV", "engagedParty": {"id": "new", "@referredType": "Organization"},
        "contactMedium": [
            {"mediumType": "email", "characteristic": {"emailAddress": "office@acme.example"}},
            {"mediumType": "postalAddress", "characteristic": {"contactType": "legal,billing", "street1": "Kade 1",
                                                               "postCode": "1011 AA", "city": "Amsterdam"}}],
        "characteristic": [{"name": "vatNumber", "value": "NL004495445B01"},
                           {"name": "customerGroup", "value": "SME"}]})
    assert response.status_code == 201, response.json()
    body = response.json()
    customer = Customer.objects.get(pk=body["id"])
    assert response["Location"] == body["href"]
    assert (customer.kind, customer.company_name, customer.vat_number) == ("business", "Acme Trading BV",
                                                                          "NL004495445B01")
    assert customer.addresses.get().roles == ["legal", "billing"]
    person = csr_api.post(CUSTOMERS, {"name": "Jan Piet de Boer", "relatedParty": [
        {"id": body["id"], "role": "parent", "@referredType": "Customer"}]}).json()
    assert {c["name"]: c["value"] for c in person["characteristic"]}["givenName"] == "Jan Piet de"
    assert person["relatedParty"][0]["id"] == body["id"] and person["relatedParty"][0]["role"] == "parent"
    patched = csr_api.patch(f"{CUSTOMERS}/{person['id']}", {
        "status": "suspended", "statusReason": "fraud check",
        "characteristic": [{"name": "givenName", "value": "Jan"}, {"name": "familyName", "value": "Boer"}],
        "contactMedium": [{"mediumType": "phone", "characteristic": {"phoneNumber": "06 1111 2222"}}]})
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["name"], patched.json()["status"], patched.json()["statusReason"]) == (
        "Jan Boer", "suspended", "fraud check")
    refused = csr_api.patch(f"{CUSTOMERS}/{person['id']}", {"characteristic": [{"name": "shoeSize", "value": 44}]})
    assert refused.status_code == 400 and refused.json()["field"] == "characteristic[0].name"


def test_customer_list_filters_and_pages(csr_api, ann, shop, system):
    from telora.core import clock
    from telora.customers import services as s

    s.create_customer(shop, actor=system, at=clock.now(), kind="private", last_name="Bakker")
    everyone = csr_api.get(CUSTOMERS)
    assert everyone["X-Total-Count"] == "2"
    assert [c["name"] for c in csr_api.get(CUSTOMERS, name="vries").json()] == ["Ann de Vries"]
    assert [c["id"] for c in csr_api.get(CUSTOMERS, customerNumber="C0000002").json()] != [str(ann.pk)]


def test_billing_account_has_tmf666_fields(csr_api, ann):
    account = ann.accounts.get()
    body = csr_api.get(f"{ACCOUNTS}/{account.pk}").json()
    assert set(body) - {"accountNumber", "billingGroup"} <= spec_fields("TMF666-Account-v4.0.0.swagger.json",
                                                                        "BillingAccount")
    assert (body["@type"], body["state"], body["accountNumber"]) == ("BillingAccount", "active", "C0000001-1")
    assert body["relatedParty"] == [{"id": str(ann.pk), "href": f"{CUSTOMERS}/{ann.pk}", "name": "Ann de Vries",
                                     "role": "customer", "@referredType": "Customer"}]
    assert body["creditLimit"] == {"unit": "EUR", "value": 0}
    assert body["billStructure"]["cycleSpecification"]["id"] == "M01"
    assert body["billStructure"]["presentationMedia"][0]["id"] == "email"


def test_create_a_billing_account_the_tmf_way(csr_api, ann):
    response = csr_api.post(ACCOUNTS, {
        "name": "Ann's business line", "relatedParty": [{"id": str(ann.pk), "role": "customer",
                                                        "@referredType": "Customer"}],
        "creditLimit": {"unit": "EUR", "value": 250.5},
        "defaultPaymentMethod": {"id": "MANDATE-77", "name": "direct_debit"},
        "billStructure": {"cycleSpecification": {"id": "M15"}, "presentationMedia": [{"id": "print"}]},
        "contact": [{"contactType": "billing", "contactMedium": [
            {"mediumType": "postalAddress", "characteristic": {"street1": "Postbus 12", "postCode": "1000 AA",
                                                               "city": "Amsterdam"}}]}]})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["creditLimit"] == {"unit": "EUR", "value": 250.5}
    assert b'"value": 250.5' in response.content or b'"value":250.5' in response.content
    assert body["defaultPaymentMethod"]["id"] == "MANDATE-77"
    assert body["billStructure"]["cycleSpecification"]["id"] == "M15"
    postal = [m for m in body["contact"][0]["contactMedium"] if m["mediumType"] == "postalAddress"]
    assert postal[0]["characteristic"]["street1"] == "Postbus 12"
    assert csr_api.get(ACCOUNTS, **{"relatedParty.id": str(ann.pk)})["X-Total-Count"] == "2"


def test_credit_limits_are_written_with_exactly_their_digits(csr_api, ann):
    """A float would print 123456789012.34567; the exact renderer keeps every digit."""
    import json
    from decimal import Decimal

    response = csr_api.post(ACCOUNTS, {
        "name": "Big", "relatedParty": [{"id": str(ann.pk), "role": "customer"}],
        "creditLimit": {"unit": "EUR", "value": "123456789012.345678"}})
    assert response.status_code == 201, response.json()
    body = json.loads(response.content, parse_float=Decimal)
    assert body["creditLimit"]["value"] == Decimal("123456789012.345678")


def test_a_card_number_never_reaches_the_database(csr_api, ann):
    response = csr_api.post(ACCOUNTS, {
        "relatedParty": [{"id": str(ann.pk), "role": "customer"}],
        "defaultPaymentMethod": {"id": "4111-1111-1111-1111", "name": "card"}})
    assert response.status_code == 400
    assert response.json()["field"] == "payment_method_ref"
    assert "looks like a payment card number (4111…1111)" in response.json()["message"]
    assert ann.accounts.count() == 1


def test_product_inventory_has_tmf637_fields(csr_api, mobile, ann):
    body = csr_api.get(f"{PRODUCTS}/{mobile.pk}").json()
    assert set(body) <= spec_fields("TMF637-ProductInventory-v4.0.0.swagger.json", "Product") | {"@type"}
    assert (body["@type"], body["status"], body["isBundle"]) == ("Product", "active", True)
    assert body["productSerialNumber"] == mobile.identifier
    offering = body["productOffering"]
    basic = mobile.products.get(product__code="MOB_POST_BASIC").product
    assert offering["id"] == str(basic.pk)  # the same id TMF620 serves the offering under
    assert offering["href"] == f"/tmf-api/productCatalogManagement/v4/productOffering/{basic.pk}"
    assert body["relatedParty"][0] == {"id": str(ann.pk), "href": f"{CUSTOMERS}/{ann.pk}", "name": "Ann de Vries",
                                       "role": "customer", "@referredType": "Customer"}
    assert body["billingAccount"]["id"] == str(mobile.billing_account_id)
    resources = {r["@referredType"]: r["id"] for r in body["realizingResource"]}
    assert resources == {"SimCard": mobile.sim.iccid, "PhoneNumber": mobile.identifier}
    assert [(p["productOffering"]["name"], p["status"]) for p in body["product"]] == [
        (basic.name, "active"), ("EU roaming 5 GB", "active")]
    item_fields = spec_fields("TMF637-ProductInventory-v4.0.0.swagger.json", "Product") | {"@type"}
    assert all(set(p) <= item_fields for p in body["product"])


def test_product_inventory_filters_by_customer(csr_api, mobile, ann, shop, system):
    from telora.core import clock
    from telora.customers import services as s

    bob = s.create_customer(shop, actor=system, at=clock.now(), kind="private", last_name="Bakker",
                            email="bob@example.com")
    s.create_subscription(bob, actor=system, at=clock.now(), billing_account=s.create_billing_account(
        bob, actor=system, at=clock.now()), service_type="mobile_prepaid", plan="MOB_PRE")
    assert csr_api.get(PRODUCTS)["X-Total-Count"] == "2"
    mine = csr_api.get(PRODUCTS, **{"relatedParty.id": str(ann.pk)}).json()
    assert [p["id"] for p in mine] == [str(mobile.pk)]
    assert [p["id"] for p in csr_api.get(PRODUCTS, productSerialNumber="+" + mobile.identifier).json()] == [
        str(mobile.pk)]
    assert csr_api.get(PRODUCTS, status="terminated").json() == []


def test_tmf_rights_and_brand_isolation(api_for, mobile, ann, other_shop, anonymous_client):
    other = api_for({other_shop: ["customers.view", "customers.change"]})
    account = ann.accounts.get()
    for url in (f"{CUSTOMERS}/{ann.pk}", f"{ACCOUNTS}/{account.pk}", f"{PRODUCTS}/{mobile.pk}"):
        assert other.get(url).status_code == 404
        assert other.get(url).json()["@type"] == "Error"
    assert other.patch(f"{CUSTOMERS}/{ann.pk}", {"status": "closed"}).status_code == 404
    assert other.post(ACCOUNTS, {"relatedParty": [{"id": str(ann.pk), "role": "customer"}]}).status_code == 404
    assert other.get(CUSTOMERS).json() == [] and other.get(PRODUCTS).json() == []
    blind = api_for({ann.brand: ["inventory.view"]})
    for url in (CUSTOMERS, ACCOUNTS, PRODUCTS, f"{CUSTOMERS}/{ann.pk}"):
        assert blind.get(url).status_code == 403
    assert anonymous_client.get(CUSTOMERS).status_code == 401


def test_each_tmf_api_has_its_own_openapi_document(csr_api):
    for base, title in (("/tmf-api/customerManagement/v4", "TMF629"), ("/tmf-api/accountManagement/v4", "TMF666"),
                        ("/tmf-api/productInventory/v4", "TMF637")):
        document = csr_api.get(f"{base}/openapi.json").json()
        assert title in document["info"]["title"]
