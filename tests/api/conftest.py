"""API test helpers: API keys and a client that sends one."""

import pytest
from django.test import Client

from telora.core import clock
from telora.core.services.users import create_api_key


class ApiClient:
    """A Django test client speaking JSON, authenticated by an API key (or a session, or nothing)."""

    def __init__(self, token=None, *, header="bearer", client=None):
        self.client = client or Client()
        self.headers = {}
        if token and header == "bearer":
            self.headers["Authorization"] = f"Bearer {token}"
        elif token:
            self.headers["X-API-Key"] = token

    def get(self, path, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path, data=None, **headers):
        return self.client.post(path, data, content_type="application/json", headers={**self.headers, **headers})

    def patch(self, path, data=None, **headers):
        return self.client.patch(path, data, content_type="application/json", headers={**self.headers, **headers})


@pytest.fixture
def make_key(system):
    """make_key(user, [brand, ...], [perm, ...]) -> (ApiKey, token)."""

    def make(user, brands, permissions, *, name="test key", expires_at=None):
        return create_api_key(actor=system, at=clock.now(), user=user, name=name, brands=brands,
                              permissions=permissions, expires_at=expires_at)

    return make


@pytest.fixture
def key_client(make_key):
    """key_client(user, brands, perms) -> an ApiClient sending a fresh key for that user."""

    def make(user, brands, permissions, **kw):
        _key, token = make_key(user, brands, permissions, **kw)
        return ApiClient(token)

    return make


@pytest.fixture
def session_client():
    """session_client(user) -> an ApiClient logged in as the user (CSRF enforced like a browser)."""

    def make(user, *, enforce_csrf=False):
        client = Client(enforce_csrf_checks=enforce_csrf)
        client.force_login(user)
        return ApiClient(client=client)

    return make


@pytest.fixture
def token_client():
    """token_client(token, header="bearer" or "x-api-key") -> an ApiClient sending that token."""
    return ApiClient


@pytest.fixture
def anonymous():
    return ApiClient()
