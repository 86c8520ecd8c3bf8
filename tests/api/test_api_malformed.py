"""Malformed input is a 4xx naming the field, never a server error (docs/api.md, "Limits").

Each case was a 500 (or an HTML page) once: offsets past bigint, NUL characters, multipart
forms without a boundary, amounts past NUMERIC(18,6) or in exponent form, impossible time-zone
offsets, non-ASCII digits in TMF ids, CSV cells past the csv module's field limit, JSON nested
50,000 deep, and a missing file's content.
"""

import csv

import pytest
from api_helpers import seed
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from telora.rating.models import UsageFile

TMF_CUSTOMER = "/tmf-api/customerManagement/v4/customer"
TMF_USAGE = "/tmf-api/usageManagement/v4/usage"
ADJUSTMENTS = "/api/v1/billing/adjustments"
BIG = str(2**63)


@pytest.fixture
def seeded(brand_a, system, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return seed(brand_a, system)


@pytest.fixture
def client(seeded):
    return Client(headers={"Authorization": f"Bearer {seeded['token']}"})


def refused(response, status=400, field=None):
    """The TM Forum error shape with `status`, naming `field` when given."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["@type"] == "Error" and body["status"] == str(status)
    if field is not None:
        assert body["field"] == field, body
    return body


def adjustment(account: str, amount: str, reason: str = '"goodwill"') -> str:
    """An adjustment body as JSON text, with the amount and reason written as given."""
    return '{"account": "' + account + '", "amount": ' + amount + ', "reason": ' + reason + "}"


def post_json(client, path, text):
    return client.generic("POST", path, text.encode(), content_type="application/json")


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/inventory/sims", "/api/v1/billing/adjustments",
                                  "/api/v1/audit-events", TMF_CUSTOMER, TMF_USAGE,
                                  "/tmf-api/productCatalogManagement/v4/productOffering"])
def test_an_offset_or_limit_past_bigint_is_a_400_naming_it(client, path):
    refused(client.get(path, {"offset": BIG}), field="offset")
    refused(client.get(path, {"limit": BIG}), field="limit")


def test_an_id_past_bigint_in_the_path_is_a_404(client, seeded):
    refused(client.get(f"/api/v1/users/{BIG}"), 404)
    refused(client.get(f"/api/v1/customers/{seeded['customer']}/files/{BIG}/content"), 404)
    refused(client.get(f"{TMF_CUSTOMER}/{BIG}"), 404)


@pytest.mark.parametrize("path,name", [(ADJUSTMENTS, "account"), ("/api/v1/inventory/sims", "batch"),
                                       ("/api/v1/audit-events", "action"), (TMF_CUSTOMER, "name"),
                                       ("/tmf-api/productCatalogManagement/v4/productOffering", "code")])
def test_a_nul_in_a_query_filter_is_a_400_naming_it(client, path, name):
    refused(client.get(path, {name: "ab\x00c"}), field=name)


def test_a_nul_in_a_json_string_is_a_400_naming_its_place(client, seeded):
    body = adjustment(seeded["account_number"], '"-1.00"', '"a\\u0000b"')
    refused(post_json(client, ADJUSTMENTS, body), field="reason")
    batch = ('{"brand": "alpha", "source": "x", "records": [{"record_id": "r\\u0000", "service": "voice", '
             '"a_number": "31612345678", "b_number": "31201234567", "start_time": "2026-01-01T10:00:00+01:00"}]}')
    refused(post_json(client, "/api/v1/usage", batch), field="records[0].record_id")
    refused(client.patch(f"/api/v1/customers/{seeded['customer']}/contacts/{seeded['contact']}",
                         '{"last_name": "x\\u0000"}', content_type="application/json"), field="last_name")


def test_a_nul_in_a_form_field_is_a_400_naming_it(client):
    upload = SimpleUploadedFile("sims.csv", b"iccid,imsi\n", "text/csv")
    refused(client.post("/api/v1/inventory/uploads", {"file": upload, "kind": "sims", "brand": "al\x00pha"}),
            field="brand")


def test_uploaded_text_with_a_nul_is_refused_clearly(client, seeded):
    sims = SimpleUploadedFile("sims.csv", b"iccid,imsi\n8931440400000000\x0017,204080000000099\n", "text/csv")
    body = refused(client.post("/api/v1/inventory/uploads", {"file": sims, "kind": "sims"}), field="file")
    assert "line 2" in body["message"] and "NUL" in body["message"]
    catalogue = "brand:\n  code: alpha\nproducts:\n  - code: X\x00Y\n"
    refused(client.generic("POST", "/api/v1/config/apply", catalogue.encode(), content_type="application/yaml"))
    cdrs = SimpleUploadedFile("cdrs.csv", b"record_id,service,a_number\nx\x00,voice,316\n", "text/csv")
    response = client.post("/api/v1/usage/files", {"file": cdrs, "format": "csv", "source": "nul"})
    assert response.status_code < 500, response.content
    if response.status_code == 202:  # taken in: the unreadable line is a failed record, not a stuck file
        assert UsageFile.objects.get(pk=response.json()["id"]).failed >= 1
    note = SimpleUploadedFile("note.txt", b"hello\x00world\n", "text/plain")
    response = client.post(f"/api/v1/customers/{seeded['customer']}/files", {"file": note})
    assert response.status_code in (201, 400), response.content


@pytest.mark.parametrize("path", ["/api/v1/inventory/uploads", "/api/v1/usage/files", "/api/v1/config/apply",
                                  "customer-files"])
def test_multipart_without_a_boundary_is_a_400_on_every_upload(client, seeded, path):
    if path == "customer-files":
        path = f"/api/v1/customers/{seeded['customer']}/files"
    body = b'--x\r\nContent-Disposition: form-data; name="kind"\r\n\r\nsims\r\n--x--\r\n'
    refused(client.generic("POST", path, body, content_type="multipart/form-data"), field="Content-Type")
    refused(client.generic("POST", path, body, content_type="multipart/form-data; boundary="), field="Content-Type")


@pytest.mark.parametrize("amount", ["1234567890123", "1234567890123.00", 1234567890123, "1E+15", "1e2", "1E+400",
                                   "-2.5e3"])
def test_an_adjustment_amount_of_13_digits_or_in_exponent_form_is_a_400_naming_amount(client, seeded, amount):
    text = adjustment(seeded["account_number"], str(amount) if isinstance(amount, int) else f'"{amount}"')
    refused(post_json(client, ADJUSTMENTS, text), field="amount")
    if isinstance(amount, str) and "e" in amount.lower():  # a bare JSON number in exponent form too
        text = adjustment(seeded["account_number"], amount)
        refused(post_json(client, ADJUSTMENTS, text), field="amount")


def test_an_adjustment_of_12_digits_is_still_taken(client, seeded):
    text = adjustment(seeded["account_number"], '"-999999999999.99"')
    response = post_json(client, ADJUSTMENTS, text)
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "-999999999999.99"


@pytest.mark.parametrize("name", ["usageDate.gte", "usageDate.gt", "usageDate.lt", "usageDate.lte"])
def test_a_time_zone_offset_of_19_hours_in_a_tmf_date_filter_is_a_400_naming_it(client, name):
    refused(client.get(TMF_USAGE, {name: "2026-01-01T00:00:00+19:00"}), field=name)
    refused(client.get(TMF_USAGE, {name: "0001-01-01T00:00:00-12:00"}), field=name)
    assert client.get(TMF_USAGE, {name: "2026-01-01T00:00:00+14:00"}).status_code == 200


@pytest.mark.parametrize("ident", ["١٢", "²", "٣", "12٣", "99999999999999999999999"])
def test_non_ascii_digits_in_tmf_ids_are_a_404(client, ident):
    for path in (TMF_CUSTOMER, "/tmf-api/accountManagement/v4/billingAccount", "/tmf-api/productInventory/v4/product",
                 TMF_USAGE, "/tmf-api/customerBillManagement/v4/customerBill",
                 "/tmf-api/prepayBalanceManagement/v4/bucket", "/tmf-api/productCatalogManagement/v4/productOffering"):
        refused(client.get(f"{path}/{ident}"), 404)
    refused(client.get(TMF_USAGE, {"product.id": ident}), field="product.id")
    assert client.get(TMF_CUSTOMER.replace("customer", "customer"), {"relatedParty.id": ident}).status_code < 500


def test_a_csv_cell_over_the_field_limit_is_a_400_with_its_line(client):
    cell = "9" * (csv.field_size_limit() + 10)
    sims = SimpleUploadedFile("sims.csv", f"iccid,imsi\n8931440400000000017,204080000000099\n{cell},1\n".encode(),
                              "text/csv")
    body = refused(client.post("/api/v1/inventory/uploads", {"file": sims, "kind": "sims"}), field="file")
    assert "line 3" in body["message"] and "field limit" in body["message"]
    numbers = SimpleUploadedFile("numbers.csv", f'number\n"{cell}\n'.encode(), "text/csv")
    body = refused(client.post("/api/v1/inventory/uploads", {"file": numbers, "kind": "numbers"}), field="file")
    assert "line 2" in body["message"]


@pytest.mark.parametrize("path", [ADJUSTMENTS, "/api/v1/users", "/api/v1/usage",
                                  "/tmf-api/prepayBalanceManagement/v4/topupBalance", TMF_CUSTOMER])
def test_json_nested_50000_deep_is_refused_before_parsing(client, path):
    refused(post_json(client, path, "[" * 50_000 + "]" * 50_000), field="body")
    refused(post_json(client, path, '{"a": ' * 50_000 + "1" + "}" * 50_000), field="body")
    # brackets inside strings do not count
    assert post_json(client, path, '{"reason": "%s"}' % ("[" * 100)).status_code < 500


def test_deep_yaml_in_a_catalogue_is_refused(client):
    refused(client.generic("POST", "/api/v1/config/apply", ("a: " + "[" * 50_000).encode(),
                           content_type="application/yaml"), field="body")


def test_a_missing_file_content_is_a_json_404(client, seeded):
    customer = seeded["customer"]
    for path in (f"/api/v1/customers/{customer}/files/999999/content",
                 f"/api/v1/customers/999999/files/{seeded['file']}/content",
                 f"/api/v1/customers/{customer}/files/{seeded['file']}/content/",
                 f"/api/v1/customers/{customer}/files/x/content",
                 f"/api/v1/customers/{customer}/files/{seeded['file']}/content%0A",
                 f"/api/v1/customers/{customer}/files/{seeded['file']}%0A/content",
                 "/tmf-api/customerBillManagement/v4/customerBill/1/pdf%0A"):
        refused(client.get(path, HTTP_ACCEPT="text/html"), 404)
    from telora.customers.models import CustomerFile

    row = CustomerFile.objects.get(pk=seeded["file"])
    row.file.storage.delete(row.file.name)  # the row is there, its bytes are gone
    refused(client.get(f"/api/v1/customers/{customer}/files/{seeded['file']}/content"), 404)
