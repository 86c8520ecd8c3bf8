import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command

from telora.core import demo
from telora.core.demo import DEMO_PASSWORD, DemoReport, load_demo
from telora.core.models import AuditEvent, Brand, User


@pytest.fixture
def small_demo(monkeypatch):
    """The whole demo (every registered loader) with a few customers per brand."""
    from telora.customers import demo as customers_demo

    monkeypatch.setattr(customers_demo, "CUSTOMERS_PER_BRAND", 6)
    with time_machine.travel(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC), tick=True):
        yield


class Recorder(DemoReport):
    def __init__(self):
        self.steps, self.notes, self.done = [], [], {}

    def step(self, label, total):
        self.steps.append(label)
        self.done[label] = 0

    def advance(self, units=1):
        self.done[self.steps[-1]] += units

    def note(self, text):
        self.notes.append(text)


def test_demo_loads_two_brands_and_is_idempotent(db, monkeypatch):
    monkeypatch.setattr(demo, "DEMO_LOADERS", [])  # the apps' loaders have their own tests
    logins = load_demo()
    assert {b.code for b in Brand.objects.all()} == {"nordlink", "bluewave"}
    assert {login.username for login in logins} >= {"admin", "nordlink-admin", "bluewave-admin", "csr"}
    assert User.objects.get(username="admin").check_password(DEMO_PASSWORD)
    events = AuditEvent.objects.count()
    load_demo()
    assert AuditEvent.objects.count() == events  # nothing changed the second time
    assert Brand.objects.count() == 2


def test_every_loader_reports_each_brand(db, small_demo):
    report = Recorder()
    load_demo(report)
    for brand in ("nordlink", "bluewave"):
        mine = [label for label in report.steps if label.startswith(f"{brand}: ")]
        assert [label.split(": ")[1].split(" ")[0] for label in mine] == [
            "catalogue,", "usage", "bill", "provisioning", "provisioning", "barring", "porting"]
        assert all(report.done[label] > 0 for label in mine)
        notes = [n for n in report.notes if n.startswith(f"{brand}: ")]
        assert [n.split(" ")[2] for n in notes] == [
            "customers,", "usage", "bill", "letter", "provisioning", "sequencing", "barring",
            "porting"]  # one note per loader
    # the whole demo: Nordlink provisions its sign-ups at netsim automatically, Bluewave at the desk
    provisioning = {n.split(":")[0]: n for n in report.notes if " provisioning requests " in n}
    assert "automatically at netsim" in provisioning["nordlink"] and "netsim" not in provisioning["bluewave"]


def test_the_demo_runs_the_simulators_of_outside_parties():
    from telora.letters.demo import mail_catcher, smsc
    from telora.provisioning.demo import netsim_companion

    assert {mail_catcher, smsc, netsim_companion} <= set(demo.DEMO_COMPANIONS)


def test_the_demo_command_says_what_it_does(db, small_demo):
    out = io.StringIO()
    call_command("demo", no_serve=True, stdout=out)
    text = out.getvalue()
    assert text.index("Migrating") < text.index("Loading the demo") < text.index("Demo logins")
    for step in ("nordlink: catalogue, stock and customers", "bluewave: usage", "bluewave: bill runs"):
        assert f"  {step}" in text
    assert "nordlink: 6 customers" in text and "bluewave: 8 bill runs" in text
    assert "nordlink-admin" in text
