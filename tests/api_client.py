"""The Django test client speaking JSON to the REST API with an API key (shared by the apps' tests)."""

from django.test import Client


class ApiClient:
    """The Django test client speaking JSON with an API key."""

    def __init__(self, token=None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path, data=None):
        return self.client.post(path, data, content_type="application/json", headers=self.headers)

    def patch(self, path, data=None):
        return self.client.patch(path, data, content_type="application/json", headers=self.headers)

    def delete(self, path):
        return self.client.delete(path, headers=self.headers)

    def upload(self, path, data):
        return self.client.post(path, data, headers=self.headers)
