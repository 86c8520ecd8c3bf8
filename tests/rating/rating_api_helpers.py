"""Shared by the rating API tests: a JSON client sending an API key, and keys for fresh users."""

from __future__ import annotations

import json
from decimal import Decimal

from django.test import Client

from telora.api.tmf import ExactJSONRenderer
from telora.core import clock
from telora.core.services.users import create_api_key

RATER = ["rating.view", "rating.change"]


class ApiClient:
    def __init__(self, token=None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path, data=None):
        """JSON of `data`; a Decimal in it is written as a JSON number with exactly its digits."""
        body = data if isinstance(data, (str, bytes)) else ExactJSONRenderer().render(None, data or {},
                                                                                      response_status=200)
        return self.client.post(path, body, content_type="application/json", headers=self.headers)

    def upload(self, path, data):
        return self.client.post(path, data, headers=self.headers)


def exact(response):
    """The JSON body with its numbers as Decimals (exactly the digits written)."""
    return json.loads(response.content, parse_float=Decimal)


def client_for(system, make_user, username, grants):
    """An ApiClient with a key of a new user holding `grants` ({brand: [perm, ...]})."""
    user = make_user(username, grants)
    perms = sorted({p for ps in grants.values() for p in ps})
    _key, token = create_api_key(actor=system, at=clock.now(), user=user, name="test", brands=list(grants),
                                 permissions=perms)
    return ApiClient(token)
