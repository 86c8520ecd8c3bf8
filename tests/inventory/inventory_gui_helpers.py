"""Shared by the inventory GUI tests: people and stock to look at (logged-in clients: tests/gui_helpers.py)."""

from telora.core import clock
from telora.inventory import services

from .factories import make_iccid, make_imsi, make_number

VIEW = ["inventory.view"]
CHANGE = ["inventory.view", "inventory.change"]
EVERYTHING = ["inventory.view", "inventory.change", "inventory.import", "inventory.secrets", "jobs.view"]


def make_stock(brand_a, system) -> dict:
    """Brand A: three SIM cards (two types, two batches) with codes, a gold group and three numbers."""
    at = clock.now()
    sims = [services.create_sim(brand_a, actor=system, at=at, iccid=make_iccid(n), imsi=make_imsi(n), pin1="1234",
                                puk1="12345678", pin2="5678", puk2="87654321", sim_type=sim_type, batch=batch)
            for n, sim_type, batch in [(1, "usim-4g", "B1"), (2, "usim-4g", "B2"), (3, "esim", "B2")]]
    gold = services.create_number_group(brand_a, actor=system, at=at, code="gold", name="Gold", one_time_price="50")
    numbers = [services.create_number(brand_a, make_number(n), actor=system, at=at, group=gold if n == 3 else None)
               for n in (1, 2, 3)]
    return {"sims": sims, "gold": gold, "numbers": numbers}
