"""The porting demo: each demo brand has its clearing house, a port-in completed on its date (the line live
with the ported number from the window on), one scheduled for a coming date, and a port-out rejected for
its wrong account number; loading twice adds nothing."""

import datetime as dt

import pytest

from telora.core import clock
from telora.core.demo import DEMO_LOADERS, load_demo
from telora.core.models import Brand
from telora.core.services.actors import Actor
from telora.customers import demo as customers_demo
from telora.customers.models import NumberAssignment
from telora.inventory.models import PhoneNumber
from telora.orders import demo as orders_demo
from telora.porting import demo
from telora.porting.models import PortingRequest

pytestmark = pytest.mark.django_db


def test_the_loader_comes_after_the_orders_demo():
    assert DEMO_LOADERS.index(demo.load_porting_demo) > DEMO_LOADERS.index(orders_demo.load_orders_demo)


def test_the_porting_demo(monkeypatch):
    from telora.core import demo as core_demo

    monkeypatch.setattr(core_demo, "DEMO_LOADERS", [customers_demo.load_customers_demo, orders_demo.load_orders_demo,
                                                    demo.load_porting_demo])
    monkeypatch.setattr(customers_demo, "CUSTOMERS_PER_BRAND", 12)
    load_demo()
    today = clock.now().date()
    for brand in Brand.objects.filter(code__in=("nordlink", "bluewave")):
        requests = PortingRequest.objects.filter(brand=brand)
        assert sorted(requests.values_list("direction", "state", "reason_code")) == [
            ("in", "completed", ""), ("in", "scheduled", ""), ("out", "rejected", "AUTH_MISMATCH")]
        done = requests.get(direction="in", state="completed")
        assert done.order.state == "completed" and done.requested_date < today
        line = done.subscription
        assert line.status == "active" and line.identifier == done.number
        assert line.activated_at == done.window_at  # activated by the window timer, on the porting date
        assert NumberAssignment.objects.get(subscription=line).valid_from == done.window_at
        assert PhoneNumber.objects.get(brand=brand, number=done.number).origin == "ported_in"
        waiting = requests.get(direction="in", state="scheduled")
        assert waiting.order.state == "inProgress" and waiting.requested_date > today
        assert waiting.window_at > clock.now() - dt.timedelta(minutes=1)
        refused = requests.get(direction="out")
        assert (refused.state, refused.reason_code) == ("rejected", "AUTH_MISMATCH")
        assert refused.order.state == "failed" and refused.subscription.status == "active"
    count = PortingRequest.objects.count()
    demo.load_porting_demo(Actor.system("demo"), core_demo.DemoReport())
    assert PortingRequest.objects.count() == count == 6
