"""Sales channels: every sale records one (named, or the default of the interface it came through),
the catalogue says which channel is whose default, and billing prices a product by its channel's
price list."""

import datetime as dt
import json
from decimal import Decimal as D

import pytest
import time_machine
from billing_helpers import cph
from django.test import Client

from telora.billing.models import InvoiceLine
from telora.billing.services import execute_run, start_run
from telora.catalog.export import export_yaml
from telora.catalog.schema.errors import CatalogError
from telora.catalog.services.apply import apply_catalog
from telora.catalog.yamlio import load
from telora.core import clock
from telora.core.services.users import create_api_key
from telora.customers import services as s

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]

CHANNELS = """
version: 1
brand: {code: NORD}
sales_channels:
  - {code: SHOP, name: Shops, default_for: [gui]}
  - {code: WEB, name: Web shop, default_for: [api, selfcare]}
  - {code: TELE, name: Telesales}
price_lists:
  - code: WEB_PRICES
    name: Web prices
    channel: WEB
    items:
      - {product: MOB_POST_BASIC, charge: recurring, price: "39.00"}
"""


@pytest.fixture
def channels(nord, system):
    apply_catalog(load(CHANNELS), actor=system, at=clock.now(), effective_from=dt.date(2024, 1, 1))
    return nord


def test_the_catalogue_says_which_channel_is_each_interfaces_default(channels, system):
    from telora.catalog.selectors import default_channel

    assert default_channel(channels, "gui").code == "SHOP"
    assert default_channel(channels, "api").code == "WEB"
    assert default_channel(channels, "cli") is None
    exported = export_yaml(channels, clock.today(channels))
    assert {c["code"]: c.get("default_for") for c in load(exported)["sales_channels"]} == {
        "SHOP": ["gui"], "WEB": ["api", "selfcare"], "TELE": None}
    assert apply_catalog(load(exported), actor=system, at=clock.now()).changes == []  # round trip: no change


@pytest.mark.parametrize(("channels_yaml", "path", "message"), [
    ("[{code: A, name: A, default_for: [gui]}, {code: B, name: B, default_for: [api, gui]}]",
     "sales_channels[1].default_for", "gui is already the default of A"),
    ("[{code: A, name: A, default_for: [shop]}]", "sales_channels[0].default_for[0]", "unknown interface 'shop' (known: gui, api, cli, selfcare, migration)"),
    ("[{code: A, name: A, default_for: [api, api]}]", "sales_channels[0].default_for[1]", "'api' is listed twice"),
])
def test_bad_defaults_are_refused_with_the_place(nord, system, channels_yaml, path, message):
    with pytest.raises(CatalogError) as failed:
        apply_catalog(load(f"version: 1\nbrand: {{code: NORD}}\nsales_channels: {channels_yaml}\n"), actor=system,
                      at=clock.now())
    assert (path, message) in [(p, m) for p, m in failed.value.errors]


def _line(account, channel=None, interface=None, system=None):
    return s.create_subscription(account.customer, actor=system, at=cph("2026-03-11"), billing_account=account,
                                 service_type="fiber", identifier=f"CIRCUIT-{account.pk}", plan="FIBER_500",
                                 channel=channel, interface=interface)


def test_every_sale_records_its_channel(channels, system, account_for):
    named = _line(account_for("Ann Web"), channel="TELE", interface="gui", system=system)
    assert named.channel.code == "TELE" and {i.channel.code for i in named.products.all()} == {"TELE"}
    by_gui = _line(account_for("Bo Shop"), interface="gui", system=system)
    assert by_gui.channel.code == "SHOP"
    sold = s.add_one_time(by_gui, "SIM_REPLACEMENT", actor=system, at=cph("2026-03-12"), interface="api")
    assert sold.channel.code == "WEB"  # each sale on the line records its own channel
    none = _line(account_for("Cy Cli"), interface="cli", system=system)
    assert none.channel is None  # no channel is the cli's default: recorded as none, said so in the docs
    with pytest.raises(Exception, match="no sales channel 'NOPE'"):
        _line(account_for("Di Bad"), channel="NOPE", system=system)


def test_the_api_records_its_default_channel_and_a_named_one(channels, system, make_user, account_for, subscribe):
    user = make_user("seller", {channels: ["customers.view", "customers.change"]})
    _key, token = create_api_key(actor=system, at=clock.now(), user=user, name="t", brands=[channels],
                                 permissions=["customers.view", "customers.change"])
    api = Client(headers={"Authorization": f"Bearer {token}"})
    account = account_for("Eva Api")
    with time_machine.travel(cph("2026-03-11T12:00"), tick=False):
        sold = api.post("/api/v1/subscriptions", json.dumps({
            "customer": account.customer_id, "billing_account": account.pk, "service_type": "fiber",
            "identifier": "CIRCUIT-API", "plan": "FIBER_500"}), content_type="application/json")
        assert sold.status_code == 201, sold.json()
        assert sold.json()["channel"] == "WEB" and sold.json()["products"][0]["channel"] == "WEB"
        other = account_for("Finn Api")
        named = api.post("/api/v1/subscriptions", json.dumps({
            "customer": other.customer_id, "billing_account": other.pk, "service_type": "fiber",
            "identifier": "CIRCUIT-API2", "plan": "FIBER_500", "channel": "TELE"}), content_type="application/json")
        assert named.json()["channel"] == "TELE"
        bad = api.post("/api/v1/subscriptions", json.dumps({
            "customer": other.customer_id, "billing_account": other.pk, "service_type": "fiber",
            "identifier": "CIRCUIT-API3", "plan": "FIBER_500", "channel": "NOPE"}), content_type="application/json")
        assert bad.status_code == 400 and bad.json()["field"] == "channel"


def test_billing_prices_a_product_by_the_channel_it_was_sold_through(channels, system, account_for):
    web, shop = account_for("Web Kunde"), account_for("Shop Kunde")
    from telora.inventory.models import PhoneNumber
    from telora.inventory.services import create_sim

    for n, (account, channel) in enumerate(((web, "WEB"), (shop, "SHOP")), start=1):
        phone = PhoneNumber.objects.create(brand=channels, number=f"452099{n:04d}", created_at=cph("2026-03-01"),
                                           updated_at=cph("2026-03-01"))
        iccid = f"894510009900000{n:03d}"
        from stdnum import luhn

        create_sim(channels, actor=system, at=cph("2026-03-01"), iccid=iccid + luhn.calc_check_digit(iccid),
                   imsi=f"2380199{n:08d}", sim_type="usim-4g")
        s.create_subscription(account.customer, actor=system, at=cph("2026-03-01"), billing_account=account,
                              service_type="mobile_postpaid", plan="MOB_POST_BASIC", number=phone, channel=channel)
    with time_machine.travel(cph("2026-04-02T06:00"), tick=False):
        run = execute_run(start_run(channels, "M01", "2026-03", (), "test", actor=system, at=cph("2026-04-02T06:00")),
                          at=cph("2026-04-02T06:00"))
    amounts = {line.invoice.account_id: line.amount for line in InvoiceLine.objects.filter(
        invoice__run=run, kind="recurring", period_start=dt.date(2026, 4, 1))}
    assert amounts == {web.pk: D("39.00"), shop.pk: D("49.00")}
