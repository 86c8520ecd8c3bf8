"""/api/v1/subscriptions and /api/v1/customers/{id}/…: selling and changing lines, rights and brand isolation."""

import pytest

from telora.core.models import AuditEvent
from telora.inventory.models import PhoneNumber, SimCard

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept")]
SUBS = "/api/v1/subscriptions"


def sell(api, ann, **values):
    body = {"customer": ann.pk, "billing_account": ann.accounts.get().pk, "service_type": "mobile_postpaid",
            "plan": "MOB_POST_BASIC", **values}
    return api.post(SUBS, body)


def test_selling_a_mobile_line_end_to_end(csr_api, ann):
    response = sell(csr_api, ann, addons=["ROAM_EU_5GB"], one_time=["SIM_REPLACEMENT"], sim_type="esim",
                    number="06 1000 0002")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["Location"] == f"{SUBS}/{body['id']}"
    assert body["identifier"] == "31610000002" and body["status"] == "active" and body["brand"] == "alpha"
    assert body["customer"] == {"id": ann.pk, "number": "C0000001", "name": "Ann de Vries"}
    assert SimCard.objects.get(iccid=body["iccid"]).sim_type == "esim"
    assert [(p["product"], p["kind"], p["end_at"] is None) for p in body["products"]] == [
        ("MOB_POST_BASIC", "plan", True), ("ROAM_EU_5GB", "addon", True), ("SIM_REPLACEMENT", "one_time", False)]
    event = AuditEvent.objects.get(object_type="customers.subscription", action="create")
    assert event.actor_label.startswith("api-key:")


def test_changing_a_line_through_the_api(csr_api, ann):
    sub = sell(csr_api, ann).json()
    url = f"{SUBS}/{sub['id']}"
    changed = csr_api.post(f"{url}/change-plan", {"plan": "MOB_POST_10GB"})
    assert changed.status_code == 200
    plans = [(p["product"], p["end_reason"]) for p in changed.json()["products"] if p["kind"] == "plan"]
    assert plans == [("MOB_POST_BASIC", "plan_change"), ("MOB_POST_10GB", "")]
    assert changed.json()["commitment_end"] is not None
    added = csr_api.post(f"{url}/addons", {"product": "DATA_S"})
    assert added.status_code == 201 and added.json()["product"] == "DATA_S"
    refused = csr_api.post(f"{url}/addons", {"product": "DATA_L"})
    assert refused.status_code == 400
    assert refused.json()["field"] == "products"
    assert refused.json()["message"] == "products: DATA_S allows at most 1 of DATA_L, DATA_S (found 2); " \
                                        "DATA_L allows at most 1 of DATA_L, DATA_S (found 2)"
    removed = csr_api.delete(f"{url}/addons/{added.json()['id']}")
    assert removed.status_code == 200
    assert [p["end_reason"] for p in removed.json()["products"] if p["product"] == "DATA_S"] == ["removed"]
    assert csr_api.post(f"{url}/suspend", {"reason": "lost phone"}).json()["status"] == "suspended"
    assert csr_api.post(f"{url}/suspend", {}).status_code == 400
    assert csr_api.post(f"{url}/resume", {}).json()["status"] == "active"
    ended = csr_api.post(f"{url}/terminate", {"reason": "moving"}).json()
    assert ended["status"] == "terminated" and ended["terminated_at"] is not None
    assert all(p["end_at"] for p in ended["products"])
    assert PhoneNumber.objects.get(number=sub["identifier"]).status == "quarantined"


def test_listing_and_filtering_pages(csr_api, ann):
    first = sell(csr_api, ann).json()
    sell(csr_api, ann, service_type="mobile_prepaid", plan="MOB_PRE")
    listed = csr_api.get(SUBS, limit=1)
    assert listed["X-Total-Count"] == "2" and len(listed.json()) == 1
    assert [s["id"] for s in csr_api.get(SUBS, identifier="+" + first["identifier"]).json()] == [first["id"]]
    assert len(csr_api.get(SUBS, customer=ann.pk, service_type="mobile_prepaid").json()) == 1
    assert csr_api.get(f"{SUBS}/{first['id']}").json()["id"] == first["id"]


def test_bad_input_names_the_field(csr_api, ann):
    response = sell(csr_api, ann, plan="NOPE")
    assert response.status_code == 400
    assert response.json()["field"] == "plan"
    assert response.json()["message"] == "plan: no product 'NOPE' in the catalogue of alpha"
    assert sell(csr_api, ann, sim="8931440400000000999").json()["field"] == "iccid"


def test_rights_and_brand_isolation(api_for, ann, other_shop, system):
    from telora.customers import services as s

    sub = s.create_subscription(ann, actor=system, at=ann.created_at, billing_account=ann.accounts.get(),
                                service_type="mobile_prepaid", plan="MOB_PRE")
    other = api_for({other_shop: ["customers.view", "customers.change"]})
    assert other.get(f"{SUBS}/{sub.pk}").status_code == 404
    assert other.post(f"{SUBS}/{sub.pk}/suspend", {}).status_code == 404
    assert sell(other, ann).status_code == 404  # brand A's customer is not there for brand B
    assert other.get(SUBS).json() == []
    assert other.get(f"/api/v1/customers/{ann.pk}/addresses").status_code == 404
    no_view = api_for({ann.brand: ["audit.view"]})
    assert no_view.get(SUBS).status_code == 403
    assert no_view.get(f"{SUBS}/{sub.pk}").status_code == 403
    viewer = api_for({ann.brand: ["customers.view"]})
    assert viewer.get(f"{SUBS}/{sub.pk}").status_code == 200
    assert viewer.post(f"{SUBS}/{sub.pk}/suspend", {}).status_code == 403
    assert sell(viewer, ann).status_code == 403


def test_addresses_contacts_and_files(csr_api, ann, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    base = f"/api/v1/customers/{ann.pk}"
    created = csr_api.post(f"{base}/addresses", {"roles": ["shipping"], "street1": "Dorpsstraat 9",
                                                 "postcode": "3511 AA", "city": "Utrecht"})
    assert created.status_code == 201 and created.json()["country"] == "NL"
    patched = csr_api.patch(f"{base}/addresses/{created.json()['id']}", {"city": "Zeist"})
    assert patched.json()["city"] == "Zeist"
    assert len(csr_api.get(f"{base}/addresses").json()) == 2
    contact = csr_api.post(f"{base}/contacts", {"last_name": "Boer", "phone": "020 555 1234", "role": "technical"})
    assert contact.status_code == 201 and contact.json()["phone"] == "+31205551234"
    assert csr_api.patch(f"{base}/contacts/{contact.json()['id']}", {"role": "nope"}).json()["field"] == "role"
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = csr_api.upload(f"{base}/files", {"file": SimpleUploadedFile("id.pdf", b"%PDF-1.4 x",
                                                                         content_type="application/pdf"),
                                              "description": "ID scan"})
    assert upload.status_code == 201 and upload.json()["size"] == 10
    bad = csr_api.upload(f"{base}/files", {"file": SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-exe")})
    assert bad.status_code == 400 and bad.json()["field"] == "content_type"
    content = csr_api.get(f"{base}/files/{upload.json()['id']}/content")
    assert content.status_code == 200 and b"".join(content.streaming_content) == b"%PDF-1.4 x"
    assert content["Content-Type"] == "application/pdf"


def test_customer_account_and_line_all_through_the_api(csr_api, shop):
    """An integrator's whole sale: TMF629 customer, TMF666 billing account, then /api/v1/subscriptions."""
    customer = csr_api.post("/tmf-api/customerManagement/v4/customer", {
        "name": "Eva Visser", "contactMedium": [
            {"mediumType": "email", "characteristic": {"emailAddress": "eva@example.com"}},
            {"mediumType": "postalAddress", "characteristic": {"contactType": "legal,billing,shipping",
                                                               "street1": "Molenweg 3", "postCode": "9711 AB",
                                                               "city": "Groningen"}}]}).json()
    account = csr_api.post("/tmf-api/accountManagement/v4/billingAccount", {
        "relatedParty": [{"id": customer["id"], "role": "customer"}],
        "defaultPaymentMethod": {"id": "MANDATE-1", "name": "direct_debit"}}).json()
    line = csr_api.post(SUBS, {"customer": int(customer["id"]), "billing_account": int(account["id"]),
                               "service_type": "mobile_postpaid", "plan": "MOB_POST_10GB"})
    assert line.status_code == 201, line.json()
    body = line.json()
    assert body["customer"]["number"] == "C0000001" and body["billing_account"]["number"] == "C0000001-1"
    assert body["identifier"] == "31610000001" and body["iccid"]
    product = csr_api.get(f"/tmf-api/productInventory/v4/product/{body['id']}").json()
    assert product["relatedParty"][0]["id"] == customer["id"]
    assert product["billingAccount"]["id"] == account["id"]
