"""Authentication: API keys in two headers, sessions with CSRF, and keys that no longer work."""

import datetime as dt

import pytest
import time_machine
from django.middleware.csrf import get_token
from django.test import RequestFactory

from telora.core import clock
from telora.core.models import ApiKey
from telora.core.services.users import revoke_api_key, update_user

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def ann(make_user, brand_a):
    return make_user("ann", {brand_a: ["users.view", "users.change"]})


@pytest.fixture
def ann_key(ann, brand_a, make_key):
    return make_key(ann, [brand_a], ["users.view"])


@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
def test_a_key_authenticates_in_either_header(ann_key, token_client, header):
    key, token = ann_key
    response = token_client(token, header=header).get("/api/v1/whoami")
    assert response.status_code == 200
    assert response.json()["api_key"]["key_id"] == key.key_id


@pytest.mark.parametrize("token", ["", "nonsense", "tel_abc_def", "Basic dXNlcjpwYXNz"])
def test_a_bad_key_is_401(db, token_client, token):
    response = token_client(token or "x").get("/api/v1/whoami")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_right_key_id_with_the_wrong_secret_is_401(ann_key, token_client):
    key, token = ann_key
    assert token_client(token[:-4] + "AAAA").get("/api/v1/whoami").status_code == 401


def test_no_credentials_is_401(db, anonymous):
    assert anonymous.get("/api/v1/whoami").status_code == 401
    assert anonymous.get("/api/v1/users").status_code == 401


def test_a_revoked_key_is_401(ann_key, token_client, system):
    key, token = ann_key
    client = token_client(token)
    assert client.get("/api/v1/whoami").status_code == 200
    revoke_api_key(key, actor=system, at=clock.now())
    assert client.get("/api/v1/whoami").status_code == 401


def test_an_expired_key_is_401(ann, brand_a, make_key, token_client):
    with time_machine.travel(NOON, tick=False):
        _key, token = make_key(ann, [brand_a], ["users.view"], expires_at=NOON + dt.timedelta(hours=1))
        assert token_client(token).get("/api/v1/whoami").status_code == 200
    with time_machine.travel(NOON + dt.timedelta(hours=1), tick=False):
        assert token_client(token).get("/api/v1/whoami").status_code == 401


def test_the_key_of_a_deactivated_user_is_401(ann, ann_key, token_client, system):
    _key, token = ann_key
    update_user(ann, actor=system, at=clock.now(), is_active=False)
    assert token_client(token).get("/api/v1/whoami").status_code == 401


def test_last_used_at_is_recorded(ann, brand_a, make_key, token_client):
    with time_machine.travel(NOON, tick=False):
        key, token = make_key(ann, [brand_a], ["users.view"])
        assert key.last_used_at is None
        token_client(token).get("/api/v1/whoami")
    assert ApiKey.objects.get(pk=key.pk).last_used_at == NOON


def test_a_session_user_can_call_the_api(ann, session_client):
    response = session_client(ann).get("/api/v1/whoami")
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "ann"
    assert response.json()["api_key"] is None


def test_unsafe_session_calls_need_the_csrf_token(ann, session_client):
    client = session_client(ann, enforce_csrf=True)
    response = client.patch(f"/api/v1/users/{ann.pk}", {"first_name": "Anne"})
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]

    token = _csrf_token(client)
    response = client.patch(f"/api/v1/users/{ann.pk}", {"first_name": "Anne"}, **{"X-CSRFToken": token})
    assert response.status_code == 200
    assert response.json()["first_name"] == "Anne"


def test_reads_through_a_session_need_no_csrf_token(ann, session_client):
    assert session_client(ann, enforce_csrf=True).get("/api/v1/users").status_code == 200


def test_api_keys_need_no_csrf_token(ann, brand_a, make_key, token_client):
    _key, token = make_key(ann, [brand_a], ["users.view", "users.change"])
    client = token_client(token)
    client.client.handler.enforce_csrf_checks = True
    assert client.patch(f"/api/v1/users/{ann.pk}", {"first_name": "Anne"}).status_code == 200


def test_a_bad_key_is_refused_even_with_a_valid_session(ann, session_client):
    client = session_client(ann)
    client.headers["Authorization"] = "Bearer tel_0000_nope"
    assert client.get("/api/v1/whoami").status_code == 401


def test_a_key_wins_over_a_session(ann, make_user, brand_a, make_key, session_client):
    other = make_user("other", {brand_a: ["users.view"]})
    _key, token = make_key(other, [brand_a], ["users.view"])
    client = session_client(ann)
    client.headers["X-API-Key"] = token
    assert client.get("/api/v1/whoami").json()["user"]["username"] == "other"


def _csrf_token(client) -> str:
    """The token a page would have given the browser: set the cookie, return the matching token."""
    request = RequestFactory().get("/")
    token = get_token(request)
    client.client.cookies["csrftoken"] = request.META["CSRF_COOKIE"]
    return token


def test_a_bad_x_api_key_is_401_even_with_a_valid_bearer_token(ann_key, token_client):
    _key, token = ann_key
    client = token_client(token)
    assert client.get("/api/v1/whoami").status_code == 200
    client.headers["X-API-Key"] = "tel_0000_nope"
    response = client.get("/api/v1/whoami")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_bad_bearer_token_is_401_even_with_a_valid_x_api_key(ann_key, token_client):
    _key, token = ann_key
    client = token_client(token, header="x-api-key")
    client.headers["Authorization"] = "Bearer tel_0000_nope"
    assert client.get("/api/v1/whoami").status_code == 401


def test_two_different_valid_keys_are_401(ann, ann_key, brand_a, make_key, token_client):
    _key, token = ann_key
    _other, other_token = make_key(ann, [brand_a], ["users.view", "users.change"])
    client = token_client(token)
    client.headers["X-API-Key"] = other_token
    assert client.get("/api/v1/whoami").status_code == 401


def test_the_same_key_in_both_headers_works(ann_key, token_client):
    key, token = ann_key
    client = token_client(token)
    client.headers["X-API-Key"] = token
    response = client.get("/api/v1/whoami")
    assert response.status_code == 200
    assert response.json()["api_key"]["key_id"] == key.key_id
