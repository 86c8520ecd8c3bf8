"""Item 8 of the hardening issue, API side: answers are never cached, text input has length limits,
`POST /inventory/sims/{id}/block` takes the body its schema declares, answers match their schemas."""

import pytest
import yaml
from api_helpers import seed
from django.test import Client

from telora.api.main import api
from telora.core.models import AuditEvent


@pytest.fixture
def seeded(brand_a, system, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return seed(brand_a, system)


@pytest.fixture
def client(seeded):
    return Client(headers={"Authorization": f"Bearer {seeded['token']}"})


@pytest.mark.parametrize("path", ["/api/v1/whoami", "/api/v1/subscriptions", "/api/v1/customers/{customer}/contacts",
                                  "/api/v1/users/999999", "/api/v1/no-such-thing", "/api/openapi.json",
                                  "/tmf-api/customerManagement/v4/customer",
                                  "/tmf-api/customerManagement/v4/customer/{customer}",
                                  "/api/v1/customers/{customer}/files/{file}/content"])
def test_every_api_answer_says_no_store(client, seeded, path):
    response = client.get(path.format(**seeded))
    assert response["Cache-Control"] == "no-store", (path, response.status_code)


def test_refusals_before_any_handler_say_no_store_too(client):
    response = client.get("/api/v1/subscriptions", {"status": "a\x00"})
    assert response.status_code == 400 and response["Cache-Control"] == "no-store"
    assert Client().get("/api/v1/whoami")["Cache-Control"] == "no-store"  # 401


def test_a_megabyte_adjustment_reason_is_a_400_naming_reason(client, seeded):
    body = {"account": seeded["account_number"], "amount": "-1.00", "reason": "x" * 1_000_000}
    response = client.post("/api/v1/billing/adjustments", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "reason"
    body["reason"] = "x" * 301
    assert client.post("/api/v1/billing/adjustments", body, content_type="application/json").json()["field"] == "reason"


def test_the_adjustment_service_refuses_a_long_reason_too(seeded, system, brand_a):
    from telora.billing.services import create_adjustment
    from telora.core import clock
    from telora.core.services.actors import ServiceError
    from telora.customers.models import BillingAccount

    account = BillingAccount.objects.get(pk=seeded["account"])
    with pytest.raises(ServiceError) as caught:
        create_adjustment(account, "-1.00", reason="y" * 301, actor=system, at=clock.now())
    assert caught.value.field == "reason"


def _unbounded_strings(schema: dict, components: dict, path: str, seen: set) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return []
        return _unbounded_strings(components[name], components, f"{path}", seen | {name})
    found = []
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            found += _unbounded_strings(part, components, path, seen)
    if schema.get("type") == "string" and not {"maxLength", "format", "enum", "const", "pattern"} & set(schema):
        found.append(path)
    for name, sub in schema.get("properties", {}).items():
        found += _unbounded_strings(sub, components, f"{path}.{name}", seen)
    if "items" in schema:
        found += _unbounded_strings(schema["items"], components, f"{path}[]", seen)
    return found


def test_json_request_bodies_of_telora_operations_have_no_unbounded_text():
    """Every text field a /api/v1 operation takes in JSON has a maximum length (the model's)."""
    doc = api.get_openapi_schema()
    components = doc.get("components", {}).get("schemas", {})
    unbounded = []
    for route, operations in doc["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema:
                unbounded += [f"{method.upper()} {route} {where}"
                              for where in _unbounded_strings(schema, components, "body", set())]
    assert unbounded == []


def test_blocking_a_sim_takes_the_declared_body(client, seeded):
    sim = seeded["sim"]
    response = client.post(f"/api/v1/inventory/sims/{sim}/block", {"reason": "stolen"},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "blocked"
    event = AuditEvent.objects.filter(object_id=str(sim), action__contains="block").latest("id")
    assert "stolen" in (event.message + str(event.changes))
    response = client.generic("POST", f"/api/v1/inventory/sims/{sim}/unblock")  # the body is optional
    assert response.status_code == 200, response.content
    operation = api.get_openapi_schema()["paths"]["/api/v1/inventory/sims/{sim_id}/block"]["post"]
    assert "application/json" in operation["requestBody"]["content"]


def test_the_catalogue_export_is_documented_as_what_it_answers(client, seeded):
    response = client.get("/api/v1/config/export", {"brand": "alpha"})
    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    operation = api.get_openapi_schema()["paths"]["/api/v1/config/export"]["get"]
    schema = operation["responses"]["200"]["content"]["application/yaml"]["schema"]
    assert schema["type"] == "object" and isinstance(document, dict)
    assert set(schema.get("required", [])) <= set(document)


@pytest.mark.parametrize("body", [b'"stolen"', b"[1, 2]", b"5", b'{"reason": 5}'])
def test_a_sim_status_change_refuses_a_body_its_schema_does_not_declare(client, seeded, body):
    response = client.generic("POST", f"/api/v1/inventory/sims/{seeded['sim']}/block", body,
                              content_type="application/json")
    assert response.status_code == 400, response.content
    assert client.get(f"/api/v1/inventory/sims/{seeded['sim']}").json()["status"] != "blocked"
    response = client.generic("POST", f"/api/v1/inventory/numbers/{seeded['number']}/release", body,
                              content_type="application/json")
    assert response.status_code == 400, response.content


@pytest.mark.parametrize("path,body,field", [
    ("/tmf-api/customerManagement/v4/customer", {"name": "n" * 251}, "name"),
    ("/tmf-api/accountManagement/v4/billingAccount", {"name": "n" * 201, "relatedParty": []}, "name"),
    ("/tmf-api/prepayBalanceManagement/v4/adjustBalance",
     {"amount": {"amount": 1}, "bucket": {"id": "1"}, "adjustType": "x" * 61 + "Credit"}, "adjustType"),
])
def test_tmf_bodies_bound_their_own_text(client, path, body, field):
    response = client.post(path, body, content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == field, response.content
