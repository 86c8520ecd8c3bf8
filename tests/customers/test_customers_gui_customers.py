"""Customer screens: finding customers, creating one with its first address, contact and account,
editing, addresses, contacts, billing accounts (card numbers refused) and files."""

import pytest
from customers_gui_helpers import CSR, PDF
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gui_helpers import form_errors, login
from telora.core.models import AuditEvent
from telora.customers.models import BillingAccount, Customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept")]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def csr(make_user, shop):
    return make_user("cas", {shop: CSR}, first_name="Cas")


@pytest.fixture
def client(csr, shop):
    return login(csr, shop)


NEW_PRIVATE = {
    "kind": "private", "first_name": "Piet", "last_name": "Jansen", "id_type": "passport", "id_number": "NX1234567",
    "birth_date": "1980-05-01", "email": "piet@example.com", "phone": "06 2345 6789", "language": "nl",
    "street1": "Dorpsstraat 5", "postcode": "3511 AB", "city": "Utrecht", "country": "NL",
    "address_roles": ["legal", "billing", "shipping"], "contact_role": "primary", "contact_last_name": "",
    "open_account": "on", "invoice_delivery": "email",
}


def test_a_csr_creates_a_private_customer_with_address_and_account(client, shop):
    response = client.post(reverse("customers:customer_create"), NEW_PRIVATE)
    customer = Customer.objects.get(brand=shop, last_name="Jansen")
    assert response.status_code == 302 and response["Location"] == reverse("customers:customer_detail",
                                                                            args=[customer.pk])
    assert customer.name == "Piet Jansen" and customer.phone == "31623456789" and customer.language == "nl"
    assert customer.number  # from the brand's customer sequence
    address = customer.addresses.get()
    assert address.roles == ["legal", "billing", "shipping"] and address.city == "Utrecht"
    account = customer.accounts.get()
    assert account.invoice_email == "piet@example.com" and account.billing_address == address
    creator = AuditEvent.objects.get(object_type="customers.customer", object_id=str(customer.pk), action="create")
    assert creator.actor_label == "cas"
    page = client.get(response["Location"]).content.decode()
    assert customer.number in page and "Piet Jansen" in page


def test_customer_numbers_follow_each_other(client, shop):
    client.post(reverse("customers:customer_create"), NEW_PRIVATE)
    client.post(reverse("customers:customer_create"), {**NEW_PRIVATE, "last_name": "Smit"})
    first, second = Customer.objects.filter(brand=shop).order_by("id").values_list("number", flat=True)
    assert int(second[-6:]) == int(first[-6:]) + 1


def test_a_business_customer_with_a_contact_and_a_parent(client, shop):
    client.post(reverse("customers:customer_create"), {
        **NEW_PRIVATE, "kind": "business", "company_name": "Acme Holding BV", "first_name": "", "last_name": "",
        "open_account": ""})
    parent = Customer.objects.get(company_name="Acme Holding BV")
    response = client.post(reverse("customers:customer_create"), {
        **NEW_PRIVATE, "kind": "business", "company_name": "Acme Retail BV", "parent": parent.number,
        "vat_number": "NL004495445B01", "contact_first_name": "Els", "contact_last_name": "Kok",
        "contact_email": "els@acme.example", "contact_role": "billing"})
    assert response.status_code == 302
    child = Customer.objects.get(company_name="Acme Retail BV")
    # private-only fields typed before switching to business are left out
    assert (child.parent, child.vat_number, child.id_number, child.birth_date) == (parent, "NL004495445B01", "", None)
    assert child.contacts.get().role == "billing"
    assert "Acme Retail BV" in client.get(reverse("customers:customer_detail", args=[parent.pk])).content.decode()


def test_refusals_show_on_their_fields_and_nothing_is_kept(client, shop):
    response = client.post(reverse("customers:customer_create"), {
        **NEW_PRIVATE, "kind": "business", "company_name": "Bad Vat BV", "vat_number": "NL123"})
    assert response.status_code == 200
    assert "vat_number" in form_errors(response)
    response = client.post(reverse("customers:customer_create"), {**NEW_PRIVATE, "phone": "12"})
    assert "phone" in form_errors(response)
    response = client.post(reverse("customers:customer_create"), {**NEW_PRIVATE, "kind": "business",
                                                                  "company_name": "Orphan BV", "parent": "NOPE"})
    assert "parent" in form_errors(response)
    response = client.post(reverse("customers:customer_create"), {**NEW_PRIVATE, "email": "",
                                                                  "invoice_delivery": "email"})
    assert "invoice_delivery" in form_errors(response)  # invoices by e-mail need an address
    assert not Customer.objects.filter(brand=shop).exists()


def test_the_list_filters_by_text_status_kind_and_group(client, shop, ann, mobile, system):
    from telora.core import clock
    from telora.customers import services as s

    acme = s.create_customer(shop, actor=system, at=clock.now(), kind="business", company_name="Acme BV",
                             customer_group="SME")
    s.update_customer(acme, actor=system, at=clock.now(), status="suspended")
    url = reverse("customers:customer_list")

    def names(**params):
        return [c.name for c in client.get(url, params).context["object_list"]]

    assert names() == ["Acme BV", "Ann de Vries"]
    assert names(q="vries") == ["Ann de Vries"]
    assert names(q=ann.number) == ["Ann de Vries"]
    assert names(q=f"+{mobile.identifier}") == ["Ann de Vries"]
    assert names(q="ann.devries@") == ["Ann de Vries"]
    assert names(status="suspended") == ["Acme BV"]
    assert names(kind="private") == ["Ann de Vries"]
    assert names(group=acme.customer_group_id) == ["Acme BV"]
    partial = client.get(url, {"q": "acme"}, headers={"HX-Request": "true"})
    assert [t.name for t in partial.templates][0] == "customers/_table.html"


def test_the_customer_page_loads_each_tab(client, ann, mobile):
    url = reverse("customers:customer_detail", args=[ann.pk])
    page = client.get(url).content.decode()
    assert f"+{mobile.identifier[:2]}" in page and "Mobil Basis" in page and mobile.sim.iccid in page
    for tab in ["subscriptions", "accounts", "addresses", "contacts", "files", "history"]:
        response = client.get(url, {"tab": tab}, headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert response.templates[0].name == "customers/tabs/_card.html"
        assert f'data-testid="tab-pane-{tab}"' in response.content.decode()
    assert client.get(url, {"tab": "nope"}).status_code == 404
    history = client.get(url, {"tab": "history"}).content.decode()
    assert 'data-action="create"' in history


def test_editing_a_customer_is_audited(client, ann):
    response = client.post(reverse("customers:customer_edit", args=[ann.pk]), {
        "kind": "private", "first_name": "Anna", "last_name": "de Vries", "email": ann.email, "phone": "",
        "language": "", "status": "active", "status_reason": ""})
    assert response.status_code == 302
    ann.refresh_from_db()
    assert ann.name == "Anna de Vries" and ann.phone == ""
    event = AuditEvent.objects.get(object_type="customers.customer", object_id=str(ann.pk), action="update")
    assert event.changes["first_name"] == ["Ann", "Anna"]


def test_closing_a_customer_with_live_lines_is_refused_on_the_status(client, ann, mobile):
    response = client.post(reverse("customers:customer_edit", args=[ann.pk]), {
        "kind": "private", "first_name": "Ann", "last_name": "de Vries", "language": "", "status": "closed",
        "status_reason": "moved"})
    assert "terminate them first" in form_errors(response)["status"][0]


def test_addresses_and_contacts(client, ann):
    response = client.post(reverse("customers:address_create", args=[ann.pk]), {
        "roles": ["shipping"], "street1": "Postbus 12", "postcode": "1000 AA", "city": "Amsterdam", "country": "NL"})
    assert response.status_code == 302 and response["Location"].endswith("?tab=addresses")
    address = ann.addresses.get(street1="Postbus 12")
    client.post(reverse("customers:address_edit", args=[address.pk]), {
        "roles": ["shipping", "installation"], "street1": "Postbus 12", "postcode": "1000 AA", "city": "Amsterdam",
        "country": "NL"})
    address.refresh_from_db()
    assert address.roles == ["shipping", "installation"]
    client.post(reverse("customers:contact_create", args=[ann.pk]), {
        "role": "technical", "first_name": "Tom", "last_name": "Tech", "email": "tom@example.com", "phone": ""})
    contact = ann.contacts.get()
    response = client.post(reverse("customers:contact_create", args=[ann.pk]), {"role": "other", "last_name": "X",
                                                                                  "email": "", "phone": "42"})
    assert "phone" in form_errors(response)
    client.post(reverse("customers:contact_remove", args=[contact.pk]))
    assert not ann.contacts.exists()
    client.post(reverse("customers:address_remove", args=[address.pk]))
    assert not ann.addresses.filter(pk=address.pk).exists()


def test_a_billing_account_refuses_a_card_number_on_its_field(client, ann):
    url = reverse("customers:account_create", args=[ann.pk])
    values = {"name": "Second", "invoice_delivery": "email", "invoice_email": "", "credit_limit": "50",
              "payment_method": "card", "payment_method_ref": "4111 1111 1111 1111", "billing_address": ""}
    response = client.post(url, values)
    assert response.status_code == 200
    message = form_errors(response)["payment_method_ref"][0]
    assert "looks like a payment card number (4111…1111)" in message
    assert "4111 1111 1111 1111" not in message
    assert ann.accounts.count() == 1
    response = client.post(url, {**values, "payment_method_ref": "tok_live_abc123"})
    account = BillingAccount.objects.get(customer=ann, name="Second")
    assert response["Location"] == reverse("customers:account_detail", args=[account.pk])
    assert account.payment_method_ref == "tok_live_abc123" and account.credit_limit == 50
    edit = reverse("customers:account_edit", args=[account.pk])
    response = client.post(edit, {**values, "payment_method_ref": "ref 5500-0000-0000-0004", "status": "active"})
    assert "payment_method_ref" in form_errors(response)
    response = client.post(edit, {**values, "payment_method_ref": "tok_live_abc123", "invoice_delivery": "print",
                                  "status": "active"})
    account.refresh_from_db()
    assert account.invoice_delivery == "print"
    assert "tok_live_abc123" in client.get(reverse("customers:account_detail", args=[account.pk])).content.decode()


def test_files_upload_with_limits_and_download(client, ann, settings):
    url = reverse("customers:file_upload", args=[ann.pk])
    response = client.post(url, {"file": SimpleUploadedFile("contract.pdf", PDF, content_type="application/pdf"),
                                 "description": "Signed"})
    assert response.status_code == 302
    row = ann.files.get()
    download = client.get(reverse("customers:file_download", args=[row.pk]))
    assert b"".join(download.streaming_content) == PDF
    response = client.post(url, {"file": SimpleUploadedFile("evil.pdf", b"MZ\x90\x00", content_type="application/pdf")})
    assert "does not look like a PDF" in form_errors(response)["file"][0]
    settings.TELORA_CUSTOMER_FILE_MAX_BYTES = 1024
    response = client.post(url, {"file": SimpleUploadedFile("big.pdf", PDF + b"x" * 4000,
                                                            content_type="application/pdf")})
    assert "larger than the limit" in form_errors(response)["file"][0]
    response = client.post(url, {"file": SimpleUploadedFile("a.exe", b"MZ", content_type="application/x-msdownload")})
    assert "is not accepted" in form_errors(response)["file"][0]
    client.post(reverse("customers:file_delete", args=[row.pk]))
    assert not ann.files.exists()


def test_the_parent_field_suggests_business_customers(client, shop, system, ann):
    from telora.core import clock
    from telora.customers import services as s

    acme = s.create_customer(shop, actor=system, at=clock.now(), kind="business", company_name="Acme Holding BV")
    response = client.get(reverse("customers:customer_pick"), {"parent": "acme"}, headers={"HX-Request": "true"})
    assert f'<option value="{acme.number}">Acme Holding BV</option>' in response.content.decode()
    assert ann.number not in client.get(reverse("customers:customer_pick"), {"parent": "vries"}).content.decode()
