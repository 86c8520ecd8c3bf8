"""Letters fixtures: a brand with the demo catalogue and the default templates, customers, a real SMTP
server (aiosmtpd) and the SMPP simulator, each started by the test on a free port."""

from __future__ import annotations

import datetime as dt

import pytest
from aiosmtpd.controller import Controller
from letters_helpers import Mailbox, free_port, make_customer
from stdnum import luhn

from db_helpers import BRAND_A, kept_for_the_module, uses_kept
from telora.catalog.services.apply import apply_catalog
from telora.catalog.yamlio import load
from telora.core import clock
from telora.core.services import Actor
from telora.core.services.brands import create_brand
from telora.customers.demo import CATALOG
from telora.inventory.services import create_number, create_sim
from telora.letters.services.defaults import install_defaults
from telora.letters.smsc_simulator import Faults, SmscSimulator


def _catalogue(brand, actor):
    data = load(CATALOG.read_text())
    data["brand"] = {"code": brand.code, "name": brand.name, "currency": brand.currency, "timezone": brand.timezone,
                     "country": brand.country, "language": brand.language}
    apply_catalog(data, actor=actor, at=clock.now(), effective_from=dt.date(2024, 1, 1))


def _stock(brand, actor, numbers, offset):
    for number in numbers:
        create_number(brand, number, actor=actor, at=clock.now())
    for n in range(offset, offset + len(numbers)):
        body = f"8931440400{n:08d}"
        create_sim(brand, actor=actor, at=clock.now(), iccid=body + luhn.calc_check_digit(body),
                   imsi=f"20408{n:010d}", sim_type="usim-4g")


@pytest.fixture
def smtp(settings):
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.TELORA_LETTER_FROM = "letters@alpha.example"
    yield mailbox
    controller.stop()


@pytest.fixture
def smsc(settings):
    simulator = SmscSimulator(faults=Faults(refuse_prefixes=("316500",), undeliverable_prefixes=("316400",)))
    port = simulator.start_in_thread()
    settings.TELORA_SMPP = {"host": "127.0.0.1", "port": port, "system_id": "telora", "password": "secret",
                            "source_addr": "Alpha", "timeout": 5}
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def shop_kept(django_db_setup, django_db_blocker):
    """The shop built once for a module that asks for it (pytestmark usefixtures("shop_kept"));
    each test rolls back to it (db_helpers.kept_for_the_module)."""
    with kept_for_the_module(django_db_blocker):
        actor = Actor.system("tests")
        brand = create_brand(actor=actor, at=clock.now(), **BRAND_A)
        _catalogue(brand, actor)
        _stock(brand, actor, ("+31 6 10000001", "+31 6 10000002"), 0)
        install_defaults(brand, actor=actor, at=clock.now())
        yield brand


@pytest.fixture
def shop(request, brand_a, system, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    if not uses_kept(request, "shop_kept"):
        _catalogue(brand_a, system)
        _stock(brand_a, system, ("+31 6 10000001", "+31 6 10000002"), 0)
        install_defaults(brand_a, actor=system, at=clock.now())
    return brand_a


@pytest.fixture
def other_shop(brand_b, system):
    _catalogue(brand_b, system)
    install_defaults(brand_b, actor=system, at=clock.now())
    return brand_b


@pytest.fixture
def ann(shop, system):
    return make_customer(shop, system, first="Annabel", last="Vermeulen", email="annabel@example.com",
                         phone="06 1234 5678", line=True)


@pytest.fixture
def bob(other_shop, system):
    return make_customer(other_shop, system, first="Bartholomew", last="Jones", email="bart@example.co.uk",
                         phone="07400 123456", street="1 Dorset Street")


