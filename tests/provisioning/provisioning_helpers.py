"""Provisioning test helpers: the simulator's client, the shop, and a target of the mvne_json adapter."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

from stdnum import luhn

from telora.catalog.services.apply import apply_catalog
from telora.catalog.yamlio import load
from telora.core import clock
from telora.customers import services as s
from telora.customers.demo import CATALOG
from telora.inventory.services import create_number, create_sim

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


def iccid(n: int, prefix: str) -> str:
    body = f"{prefix}{n:08d}"
    return body + luhn.calc_check_digit(body)


def make_shop(brand, actor, numbers, prefix, offset):
    data = load(CATALOG.read_text())
    data["brand"] = {"code": brand.code, "name": brand.name, "currency": brand.currency, "timezone": brand.timezone,
                     "country": brand.country, "language": brand.language}
    apply_catalog(data, actor=actor, at=clock.now(), effective_from=dt.date(2024, 1, 1))
    for number in numbers:
        create_number(brand, number, actor=actor, at=clock.now())
    for n in range(offset, offset + len(numbers)):
        create_sim(brand, actor=actor, at=clock.now(), iccid=iccid(n, prefix), imsi=f"20408{n:010d}",
                   sim_type="usim-4g")
    return brand


def make_customer(brand, actor, first):
    customer = s.create_customer(brand, actor=actor, at=clock.now(), kind="private", first_name=first,
                                 last_name="Tester", email=f"{first}@example.com", phone="")
    s.add_address(customer, actor=actor, at=clock.now(), street1="Kerkstraat 1", postcode="1011 AB",
                  city="Amsterdam", roles=["legal", "billing", "installation"])
    s.create_billing_account(customer, actor=actor, at=clock.now())
    return customer


def configure(brand, system, *, url="http://127.0.0.1:9/", callback_url="http://127.0.0.1:9/cb/", adapter="mvne_json",
              **options):
    from telora.provisioning.services import configure_target

    return configure_target(brand, adapter=adapter, name="Host operator", url=url, callback_url=callback_url,
                            secrets={"api_key": API_KEY, "callback_secret": SECRET}, actor=system, at=clock.now(),
                            **options)
