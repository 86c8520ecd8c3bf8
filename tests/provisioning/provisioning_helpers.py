"""Provisioning test helpers: the simulator's client, the shop, and a target of the mvne_json adapter."""

from __future__ import annotations

import json
import urllib.request

from shop_helpers import make_customer, make_shop  # noqa: F401  (the shop of these tests, for conftest)
from telora.core import clock

API_KEY, SECRET = "test-key-1", "test-callback-secret"
DESKS = ("credit", "network", "qualification", "installation", "logistics", "retention", "porting")


class Netsim:
    def __init__(self, process, url):
        self.process, self.url = process, url

    def _call(self, path, data=None):
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(self.url + path, data=body, method="POST" if body else "GET",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def faults(self, *faults, latency=None):
        return self._call("/admin/faults", {"faults": list(faults), **({"latency": latency} if latency else {})})

    def subscribers(self):
        return self._call("/v1/subscribers")["subscribers"]

    def requests(self):
        return self._call("/admin/requests")


def configure(brand, system, *, url="http://127.0.0.1:9/", callback_url="http://127.0.0.1:9/cb/", adapter="mvne_json",
              **options):
    from telora.provisioning.services import configure_target

    return configure_target(brand, adapter=adapter, name="Host operator", url=url, callback_url=callback_url,
                            secrets={"api_key": API_KEY, "callback_secret": SECRET}, actor=system, at=clock.now(),
                            **options)
