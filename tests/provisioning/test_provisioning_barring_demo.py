"""The barring demo: in each demo brand a prepaid line ran out (an OCS file rated), was barred at the
manual target and unbarred after a top-up, both requests done by hand; loading twice adds nothing. Nordlink,
moved to netsim since, lived it at its manual history target and keeps barring at `network`."""

import pytest

from telora.core.demo import DEMO_LOADERS, load_demo
from telora.core.models import Brand
from telora.core.services.actors import Actor
from telora.customers import demo as customers_demo
from telora.provisioning import barring, barring_demo, demo
from telora.provisioning.models import LineBar, ProvisioningRequest

pytestmark = pytest.mark.django_db


def test_the_loader_comes_after_the_provisioning_demo():
    assert DEMO_LOADERS.index(barring_demo.load_barring_demo) > DEMO_LOADERS.index(demo.load_provisioning_demo)


def test_the_barring_demo(monkeypatch):
    from telora.core import demo as core_demo
    from telora.rating.services.balances import balance_of

    monkeypatch.setattr(core_demo, "DEMO_LOADERS", [customers_demo.load_customers_demo, demo.load_provisioning_demo,
                                                    barring_demo.load_barring_demo])
    monkeypatch.setattr(customers_demo, "CUSTOMERS_PER_BRAND", 12)
    load_demo()
    for brand in Brand.objects.filter(code__in=("nordlink", "bluewave")):
        [bar] = LineBar.objects.filter(brand=brand)
        assert (bar.reason, bar.open, bar.balance < 0) == ("balance", False, True)
        assert (bar.bar_request.operation, bar.bar_request.state) == ("bar", "completed")
        assert (bar.end_request.operation, bar.end_request.state) == ("unbar", "completed")
        assert bar.bar_request.target.adapter == "manual" and balance_of(bar.subscription) > 0
        assert bar.end_request.target == bar.bar_request.target
        assert barring.barring_settings(brand).target_code == "network"  # the story's move is undone
    count = ProvisioningRequest.objects.count()
    barring_demo.load_barring_demo(Actor.system("demo"), core_demo.DemoReport())
    assert ProvisioningRequest.objects.count() == count
