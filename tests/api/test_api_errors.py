"""Every error has the TM Forum shape; a 400 names the field at fault."""

import pytest

from telora.core.services.actors import PermissionDeniedError

ERROR_KEYS = {"@type", "code", "reason", "message", "status"}


@pytest.fixture
def client(make_user, brand_a, make_key, token_client):
    ann = make_user("ann", {brand_a: ["users.view", "users.change"]})
    return token_client(make_key(ann, [brand_a], ["users.view", "users.change"])[1])


def assert_error(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert ERROR_KEYS <= set(body)
    assert (body["@type"], body["code"], body["status"]) == ("Error", code, str(status))
    assert body["reason"] and body["message"]
    return body


def test_401(db, anonymous):
    body = assert_error(anonymous.get("/api/v1/users"), 401, "unauthorized")
    assert "API key" in body["message"]


def test_403(make_user, brand_a, make_key, token_client):
    ann = make_user("ann", {brand_a: ["audit.view"]})
    client = token_client(make_key(ann, [brand_a], ["audit.view"])[1])
    body = assert_error(client.get("/api/v1/users"), 403, "forbidden")
    assert body["message"] == "You lack users.view in every brand."


def test_404_for_an_object_and_for_an_unknown_endpoint(client):
    assert_error(client.get("/api/v1/users/999999"), 404, "not_found")
    assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert_error(client.post("/api/v1/no-such-thing", {}), 404, "not_found")


def test_400_from_a_query_parameter(client):
    body = assert_error(client.get("/api/v1/users", limit=0), 400, "invalid")
    assert body["field"] == "limit"
    assert body["errors"] == [{"field": "limit", "message": "Input should be greater than or equal to 1"}]


def test_400_from_a_body_names_nested_fields(client):
    body = assert_error(client.post("/api/v1/users", {"username": "x", "grants": [{"brand": "alpha"}]}),
                        400, "invalid")
    assert body["field"] == "grants[0].role"
    assert body["message"] == "grants[0].role: Field required"


def test_400_lists_every_problem(client):
    body = assert_error(client.post("/api/v1/users", {"username": "", "email": "nope"}), 400, "invalid")
    assert [e["field"] for e in body["errors"]] == ["username", "email"]
    assert body["errors"][1]["message"] == "enter a valid e-mail address"


def test_a_path_that_does_not_match_is_404(client):
    assert_error(client.get("/api/v1/users/abc"), 404, "not_found")


def test_400_for_a_body_that_is_not_json(client):
    response = client.client.post("/api/v1/users", "{not json", content_type="application/json",
                                  headers=client.headers)
    assert_error(response, 400, "invalid")


def test_400_from_a_service_error(client, brand_a):
    body = assert_error(client.post("/api/v1/users", {"username": "bob", "grants": []}), 400, "invalid")
    assert body["field"] == "grants"
    assert body["message"] == "grants: Give the new user a role in at least one brand."


def test_permission_denied_from_a_service_is_403(client, admin_user, brand_a, system, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionDeniedError("Only system administrators manage system administrators.")

    monkeypatch.setattr("telora.api.users.update_user", refuse)
    ann_id = client.get("/api/v1/whoami").json()["user"]["id"]
    body = assert_error(client.patch(f"/api/v1/users/{ann_id}", {"first_name": "A"}), 403, "forbidden")
    assert body["message"] == "Only system administrators manage system administrators."
