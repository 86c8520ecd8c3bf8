"""The customers demo: per demo brand a catalogue, stock and customers with subscriptions; loading twice adds nothing."""

from decimal import Decimal

import pytest

from telora.core.demo import DEMO_LOADERS, load_demo
from telora.core.models import AuditEvent
from telora.customers import demo
from telora.customers.models import BillingAccount, Customer, Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers_only(monkeypatch):
    """The demo's brands and customers without the later apps' history (their own tests load it)."""
    from telora.core import demo as core_demo

    monkeypatch.setattr(core_demo, "DEMO_LOADERS", [demo.load_customers_demo])


def test_the_loader_is_registered():
    assert demo.load_customers_demo in DEMO_LOADERS


def test_demo_customers_are_loaded_once(monkeypatch, customers_only):
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


# Per country: what the demo brand of that country must agree with.
COUNTRIES = {"DK": dict(currency="DKK", timezone="Europe/Copenhagen", language="da", vat="25", mcc="238"),
             "GB": dict(currency="GBP", timezone="Europe/London", language="en", vat="20", mcc="234")}


def test_each_demo_brand_agrees_with_itself(monkeypatch, customers_only):
    """Country, currency, time zone and language of a demo brand are its catalogue's; its numbers,
    SIMs, addresses and VAT numbers are of its country; its tax is the country's VAT."""
    import phonenumbers

    from telora.catalog.models import Tax
    from telora.core.demo import DEMO_BRANDS
    from telora.core.models import Brand
    from telora.inventory.models import PhoneNumber, SimCard

    for spec in DEMO_BRANDS:  # the brand is made as its catalogue says (applying it changes nothing)
        block = load_catalogue_block(Brand(code=spec["code"]))
        assert {k: spec[k] for k in block} == block
    monkeypatch.setattr(demo, "CUSTOMERS_PER_BRAND", 14)
    load_demo()
    assert not AuditEvent.objects.filter(action="update", object_type="core.brand").exists()
    assert {b.code: b.country for b in Brand.objects.all()} == {"nordlink": "DK", "bluewave": "GB"}
    for brand in Brand.objects.all():
        expected = COUNTRIES[brand.country]
        block = load_catalogue_block(brand)
        assert {k: getattr(brand, k) for k in block} == block
        assert (brand.currency, brand.timezone, brand.language) == (expected["currency"], expected["timezone"],
                                                                   expected["language"])
        taxes = list(Tax.objects.filter(brand=brand).values_list("percent", "is_default"))
        assert taxes == [(Decimal(expected["vat"]), True)]
        code = str(phonenumbers.country_code_for_region(brand.country))
        numbers = list(PhoneNumber.objects.filter(brand=brand).values_list("number", flat=True))
        numbers += [s.identifier for s in Subscription.objects.filter(brand=brand, service_type__startswith="mobile")]
        numbers += [c.phone for c in Customer.objects.filter(brand=brand)]
        assert numbers and all(phonenumbers.region_code_for_number(phonenumbers.parse("+" + n.lstrip("+")))
                               == brand.country for n in numbers)
        for sim in SimCard.objects.filter(brand=brand):
            assert sim.iccid.startswith("89" + code) and sim.imsi.startswith(expected["mcc"])
        customers = Customer.objects.filter(brand=brand)
        assert {a.country for c in customers for a in c.addresses.all()} == {brand.country}
        business = customers.filter(kind="business")
        assert business and all(c.vat_number.startswith(brand.country) for c in business)
        forms = ("ApS", "A/S") if brand.country == "DK" else ("Ltd", "LLP")
        assert all(c.company_name.endswith(forms) for c in business)


def load_catalogue_block(brand) -> dict:
    """The brand block of the brand's demo catalogue file, less its code and name."""
    from telora.catalog.yamlio import load

    block = load(demo.PLACES[brand.code]["catalog"].read_text())["brand"]
    return {k: v for k, v in block.items() if k not in ("code", "name")}
