"""The provisioning demo: each demo brand has its manual host-operator target and a provisioning log with
the past week's work (lines created and recorded done by hand, a suspended line barred) and one request
still waiting; loading twice adds nothing."""

import pytest

from telora.core.demo import DEMO_LOADERS, load_demo
from telora.core.models import Brand
from telora.core.services.actors import Actor
from telora.customers import demo as customers_demo
from telora.provisioning import demo
from telora.provisioning.models import ProvisioningExchange, ProvisioningRequest

pytestmark = pytest.mark.django_db


def test_the_loader_comes_after_the_customers_demo():
    assert DEMO_LOADERS.index(demo.load_provisioning_demo) > DEMO_LOADERS.index(customers_demo.load_customers_demo)


def test_the_provisioning_demo(monkeypatch):
    from telora.core import demo as core_demo

    monkeypatch.setattr(core_demo, "DEMO_LOADERS", [customers_demo.load_customers_demo, demo.load_provisioning_demo])
    monkeypatch.setattr(customers_demo, "CUSTOMERS_PER_BRAND", 12)
    load_demo()
    for brand in Brand.objects.filter(code__in=("nordlink", "bluewave")):
        requests = ProvisioningRequest.objects.filter(brand=brand)
        assert requests.filter(target__adapter="manual").count() == requests.count() > demo.DONE
        assert requests.filter(state="queued").count() == 1  # today's newest line waits for the desk
        done = requests.filter(state="completed")
        assert done.count() == requests.count() - 1
        assert all(r.correlation_id.startswith("HOST-") for r in done)
        assert all(r.subscription.brand_id == brand.pk for r in requests)
        assert ProvisioningExchange.objects.filter(brand=brand, kind="manual").count() == done.count()
    count = ProvisioningRequest.objects.count()
    demo.load_provisioning_demo(Actor.system("demo"), core_demo.DemoReport())
    assert ProvisioningRequest.objects.count() == count
