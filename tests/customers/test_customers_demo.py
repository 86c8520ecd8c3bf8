"""The customers demo: per demo brand a catalogue, stock and customers with subscriptions; loading twice adds nothing."""

import pytest

from telora.core.demo import DEMO_LOADERS, load_demo
from telora.core.models import AuditEvent
from telora.customers import demo
from telora.customers.models import BillingAccount, Customer, Subscription

pytestmark = pytest.mark.django_db


def test_the_loader_is_registered():
    assert demo.load_customers_demo in DEMO_LOADERS


def test_demo_customers_are_loaded_once(monkeypatch):
    monkeypatch.setattr(demo, "CUSTOMERS_PER_BRAND", 30)
    load_demo()
    for code in ("nordlink", "bluewave"):
        customers = Customer.objects.filter(brand__code=code)
        assert customers.count() == 30
        assert customers.filter(kind="business").exists()
        subs = Subscription.objects.filter(brand__code=code)
        assert {"mobile_postpaid", "mobile_prepaid", "fiber", "voip"} <= set(subs.values_list("service_type",
                                                                                             flat=True))
        assert subs.filter(status="active").count() > 20
        assert BillingAccount.objects.filter(brand__code=code).count() == 30
    events = AuditEvent.objects.count()
    load_demo()
    assert AuditEvent.objects.count() == events
    monkeypatch.setattr(demo, "CUSTOMERS_PER_BRAND", 32)
    load_demo()  # a bigger demo tops up
    assert Customer.objects.filter(brand__code="nordlink").count() == 32
