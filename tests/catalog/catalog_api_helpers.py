"""Shared by the catalogue API tests: a client sending an API key, and keys for fresh users."""

import json
from decimal import Decimal

from django.test import Client

from telora.core import clock
from telora.core.services.users import create_api_key

TMF620 = "/tmf-api/productCatalogManagement/v4"


class ApiClient:
    def __init__(self, token=None, *, client=None):
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path, data=None, *, content_type="application/json", **params):
        if params:
            path = f"{path}?" + "&".join(f"{k}={v}" for k, v in params.items())
        if content_type is None:  # multipart
            return self.client.post(path, data, headers=self.headers)
        return self.client.post(path, data, content_type=content_type, headers=self.headers)


def exact(response):
    """The body with JSON numbers read as Decimals (as an exact client would)."""
    return json.loads(response.content, parse_float=Decimal)


def client_for(system, make_user, username, grants, *, superuser=False):
    """An ApiClient with a key of a new user holding `grants` ({brand: [perm, ...]})."""
    user = make_user(username, grants, superuser=superuser)
    perms = sorted({p for ps in grants.values() for p in ps}) or ["catalog.view"]
    brands = list(grants)
    _key, token = create_api_key(actor=system, at=clock.now(), user=user, name="test", brands=brands,
                                 permissions=perms)
    return ApiClient(token)
