"""Health, identity, the OpenAPI document and the docs page."""

import pytest
from django.db import OperationalError

import telora
from telora.api import system
from telora.core import rights


def test_healthz_needs_no_credentials(db, anonymous):
    response = anonymous.get("/api/v1/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "version": telora.__version__}


class DeadConnection:
    def cursor(self):
        raise OperationalError("connection refused")


def test_healthz_is_503_when_the_database_does_not_answer(db, anonymous, monkeypatch):
    monkeypatch.setattr(system, "connection", DeadConnection())
    response = anonymous.get("/api/v1/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["@type"], body["status"], body["code"]) == ("Error", "503", "unavailable")


def test_whoami_through_a_key(make_user, brand_a, brand_b, make_key, token_client):
    ann = make_user("ann", {brand_a: ["users.view", "audit.view"], brand_b: ["users.view"]})
    key, token = make_key(ann, [brand_a], ["users.view", "users.change"], name="billing robot")
    body = token_client(token).get("/api/v1/whoami").json()
    assert body["user"] == {"id": ann.pk, "username": "ann", "is_system_admin": False}
    assert body["api_key"] == {"id": key.pk, "key_id": key.key_id, "name": "billing robot", "expires_at": None}
    assert body["brands"] == [{"code": "alpha", "name": "Alpha Mobile", "permissions": ["users.view"]}]


def test_whoami_through_a_session(make_user, brand_a, brand_b, session_client):
    ann = make_user("ann", {brand_a: ["users.view", "audit.view"], brand_b: ["users.view"]})
    body = session_client(ann).get("/api/v1/whoami").json()
    assert body["api_key"] is None
    assert body["brands"] == [
        {"code": "alpha", "name": "Alpha Mobile", "permissions": ["audit.view", "users.view"]},
        {"code": "bravo", "name": "Bravo Telecom", "permissions": ["users.view"]},
    ]


def test_whoami_of_a_system_administrator_holds_everything_everywhere(admin_user, brand_a, brand_b, session_client):
    body = session_client(admin_user).get("/api/v1/whoami").json()
    assert body["user"]["is_system_admin"] is True
    assert [b["code"] for b in body["brands"]] == ["alpha", "bravo"]
    assert body["brands"][0]["permissions"] == sorted(rights.all_permissions())


def test_the_openapi_document_lists_the_operations(db, anonymous):
    response = anonymous.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "Telora API"
    paths = document["paths"]
    for expected in ["/api/v1/healthz", "/api/v1/whoami", "/api/v1/brands", "/api/v1/brands/{code}",
                     "/api/v1/users", "/api/v1/users/{user_id}", "/api/v1/audit-events"]:
        assert expected in paths
    assert set(paths["/api/v1/users"]) == {"get", "post"}
    assert set(paths["/api/v1/users/{user_id}"]) == {"get", "patch"}
    assert {"ApiKeyBearer", "ApiKeyHeader", "SessionAuth"} <= set(document["components"]["securitySchemes"])
    assert "@type" in document["components"]["schemas"]["Error"]["properties"]
    assert "security" not in paths["/api/v1/healthz"]["get"]


def test_the_docs_page_renders_without_a_cdn(db, anonymous):
    response = anonymous.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/openapi.json" in html
    assert "cdn" not in html.lower() and "https://" not in html
    for asset in ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-init.js"]:
        assert f"/api/docs/assets/{asset}" in html


@pytest.mark.parametrize("asset, content_type", [
    ("swagger-ui.css", "text/css"),
    ("swagger-ui-bundle.js", "text/javascript"),
    ("swagger-ui-init.js", "text/javascript"),
])
def test_the_docs_assets_are_served_from_the_installed_package(db, anonymous, asset, content_type):
    response = anonymous.get(f"/api/docs/assets/{asset}")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert b"".join(response.streaming_content)


def test_only_the_docs_assets_are_served(db, anonymous):
    assert anonymous.get("/api/docs/assets/redoc.standalone.js").status_code == 404
    assert anonymous.get("/api/docs/assets/..%2F..%2F__init__.py").status_code == 404
