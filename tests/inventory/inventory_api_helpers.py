"""Shared by the inventory API tests: a client sending an API key, keys for fresh users, and stock."""

from django.test import Client

from telora.core import clock
from telora.core.services.users import create_api_key
from telora.inventory.services import create_number, create_number_group, create_sim

from .factories import make_iccid, make_imsi

INV = "/api/v1/inventory"
READ = ["inventory.view"]
CHANGE = ["inventory.view", "inventory.change"]


class ApiClient:
    def __init__(self, token=None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path, data=None):
        return self.client.post(path, data or {}, content_type="application/json", headers=self.headers)

    def upload(self, path, data, query=""):
        return self.client.post(f"{path}{query}", data, headers=self.headers)


def client_for(system, make_user, username, grants):
    """An ApiClient with a key of a new user holding `grants` ({brand: [perm, ...]})."""
    user = make_user(username, grants)
    perms = sorted({p for ps in grants.values() for p in ps})
    _key, token = create_api_key(actor=system, at=clock.now(), user=user, name="test", brands=list(grants),
                                 permissions=perms)
    return ApiClient(token)


def stock(brand, system, *, first=1, sims=3, numbers=("+31 6 10000001", "+31 6 10000002", "+31 6 20000003")):
    """SIM cards (with PIN/PUK codes; batches B1, B1, B2...; types usim-4g/esim) and numbers, one of them gold."""
    now = clock.now()
    gold = create_number_group(brand, actor=system, at=now, code="gold", name="Gold", one_time_price="49")
    made = []
    for n in range(first, first + sims):
        made.append(create_sim(brand, actor=system, at=now, iccid=make_iccid(n), imsi=make_imsi(n), pin1="1234",
                               puk1=f"{n:08d}", pin2="5678", puk2="87654321",
                               sim_type="esim" if n % 2 == 0 else "usim-4g", batch=f"B{(n + 1) // 2}"))
    for index, number in enumerate(numbers):
        create_number(brand, number, actor=system, at=now, group=gold if index == len(numbers) - 1 else None)
    return made
