"""Porting test helpers: the clearing-house simulator's client, the clearing house of brand_a, orders."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.request

from shop_helpers import make_customer, make_shop  # noqa: F401  (the shop of these tests, for conftest)
from telora.core import clock

API_KEY, SECRET = "test-port-key", "test-port-secret"
DESKS = ("credit", "network", "qualification", "installation", "logistics", "retention", "porting")
OUR_CODE, DONOR = "ALP", "KPN"


class Portsim:
    def __init__(self, process, url):
        self.process, self.url = process, url

    def call(self, path, data=None):
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(self.url + path, data=body, method="POST" if body else "GET",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def rules(self, *rules):
        return self.call("/admin/rules", {"rules": list(rules)})

    def ports(self):
        return self.call("/admin/ports")["ports"]

    def port(self, number):
        return next(p for p in self.ports() if p["number"] == number)

    def port_out(self, **values):
        return self.call("/admin/port_out", values)


def configure(brand, system, *, url, callback_url="http://127.0.0.1:9/cb/", **options):
    from telora.porting.services import configure_clearing_house

    return configure_clearing_house(brand, name="Clearing house", url=url, callback_url=callback_url,
                                    operator_code=OUR_CODE, secrets={"api_key": API_KEY, "callback_secret": SECRET},
                                    actor=system, at=clock.now(), **options)


def port_in(customer, actor, number="+31 6 20000001", *, days=5, **values):
    from telora.orders.services import create_order

    characteristics = {"number": number, "donor": DONOR,
                       "requested_date": (clock.now().date() + dt.timedelta(days=days)).isoformat(),
                       "account_number": "KPN-778899", "pin": "4321", **values}
    return create_order(customer, actor=actor, at=clock.now(), order_type="port_in", channel="gui",
                        items=[{"product_offering": "MOB_POST_BASIC", "characteristics": characteristics}])


def wait_for(condition, seconds: float = 30.0):
    """Poll until the other processes got there (a deadline, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("not reached in time")
