"""The provisioning demo: each demo brand has a provisioning log with the past week's work done at the
host operator's desk (lines created and recorded done by hand, a suspended line barred) and one request
still waiting; Nordlink's `network` target is the demo's netsim, and a new sign-up there is provisioned on
it automatically (netsim run from the demo companion's own command line); loading twice adds nothing."""

import os
import signal
import subprocess
import sys
import time

import pytest
from provisioning_helpers import Netsim

from telora.core.demo import DEMO_LOADERS, load_demo
from telora.core.models import AuditEvent, Brand
from telora.core.services.actors import Actor
from telora.customers import demo as customers_demo
from telora.provisioning import demo, services
from telora.provisioning.models import NetworkTarget, ProvisioningExchange, ProvisioningRequest

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
        assert {r.target.code for r in requests} == {"desk" if brand.code == demo.AUTOMATIC_BRAND else "network"}
        assert requests.filter(state="queued").count() == 1  # today's newest line waits for the desk
        done = requests.filter(state="completed")
        assert done.count() == requests.count() - 1
        assert all(r.correlation_id.startswith("HOST-") for r in done)
        assert all(r.subscription.brand_id == brand.pk for r in requests)
        assert ProvisioningExchange.objects.filter(brand=brand, kind="manual").count() == done.count()
    network = NetworkTarget.objects.get(brand__code="nordlink", code="network")
    assert (network.adapter, network.url, network.max_tries) == ("mvne_json", demo.netsim_url(), 30)
    assert network.callback_url == f"{demo.site_url()}/provisioning/callback/{network.pk}/"
    assert services.credentials(network) == {"api_key": demo.NETSIM_API_KEY, "callback_secret": demo.NETSIM_SECRET}
    assert NetworkTarget.objects.get(brand__code="bluewave", code="network").adapter == "manual"
    assert not NetworkTarget.objects.filter(brand__code="bluewave", code="desk").exists()
    count, events = ProvisioningRequest.objects.count(), AuditEvent.objects.count()
    demo.load_provisioning_demo(Actor.system("demo"), core_demo.DemoReport())
    assert ProvisioningRequest.objects.count() == count and AuditEvent.objects.count() == events


def test_the_demo_runs_netsim_beside_the_server(tmp_path):
    from telora.core.demo import DEMO_COMPANIONS

    assert demo.netsim_companion in DEMO_COMPANIONS
    companion = demo.netsim_companion(tmp_path)
    assert companion.argv[0] == "netsim" and companion.env == {"TELORA_DEMO_NETSIM_URL":
                                                               f"http://127.0.0.1:{companion.port}"}
    assert companion.argv[companion.argv.index("--dir") + 1] == str(tmp_path / "netsim")


@pytest.fixture
def demo_netsim(tmp_path, monkeypatch, live_server):
    """netsim started with the demo companion's arguments (as `telora demo` does), the demo pointed at it
    and at this test's server for the callbacks; stopped by its pid."""
    companion = demo.netsim_companion(tmp_path)
    port = companion.argv.index("--port") + 1
    argv = [*companion.argv[1:port], "0", *companion.argv[port + 1:]]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen([sys.executable, "-m", "telora.provisioning.netsim", *argv], stdout=subprocess.PIPE,
                               text=True, env=env)
    url = process.stdout.readline().split()[-1]
    monkeypatch.setenv("TELORA_DEMO_NETSIM_URL", url)
    monkeypatch.setenv("TELORA_DEMO_URL", live_server.url)
    yield Netsim(process, url)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.mark.django_db(transaction=True)
def test_a_new_mobile_sign_up_in_the_demo_is_provisioned_on_netsim(monkeypatch, demo_netsim, make_user):
    """The issue's "done when": a sign-up in Nordlink runs the automatic flow, netsim creates the subscriber,
    and its request and answers are on the customer's Provisioning tab and the request's page."""
    from gui_helpers import login
    from telora.core import clock
    from telora.core import demo as core_demo
    from telora.orders import demo as orders_demo
    from telora.orders.models import Order
    from telora.orders.services import create_order
    from telora.workflows.models import FlowDefinition, HumanTask
    from telora.workflows.services import complete_task

    monkeypatch.setattr(core_demo, "DEMO_LOADERS", [customers_demo.load_customers_demo, orders_demo.load_orders_demo,
                                                    demo.load_provisioning_demo])
    monkeypatch.setattr(customers_demo, "CUSTOMERS_PER_BRAND", 12)
    load_demo()
    nordlink, bluewave = Brand.objects.get(code="nordlink"), Brand.objects.get(code="bluewave")
    assert FlowDefinition.objects.filter(brand=nordlink, key="signup_mobile_postpaid").exists()
    assert not FlowDefinition.objects.filter(brand=bluewave).exists()  # Bluewave keeps the desk

    customer = (Order.objects.filter(brand=nordlink, order_type="sign_up").order_by("id").first()).customer
    system = Actor.system("test")
    order = create_order(customer, actor=system, at=clock.now(), order_type="sign_up", items=[{
        "product_offering": "MOB_POST_BASIC", "characteristics": {"service_type": "mobile_postpaid"}}])
    order.refresh_from_db()
    complete_task(HumanTask.objects.get(instance_id=order.flow_instance_id, state="open"),
                  data={"decision": "approved"}, actor=system, at=clock.now())  # the credit check
    request = ProvisioningRequest.objects.get(order=order)
    assert (request.target.code, request.target.adapter, request.operation) == ("network", "mvne_json", "create")
    # the sign-up goes to netsim; the line the desk had not done yet is handed to the desk (waiting)
    assert services.send_due(at=clock.now(), brand_ids=[nordlink.pk]) == {"accepted": 1, "waiting": 1}
    deadline = time.monotonic() + 60
    while Order.objects.get(pk=order.pk).state != "completed" and time.monotonic() < deadline:
        time.sleep(0.1)  # netsim answers by a signed callback to the live server
    order.refresh_from_db()
    assert order.state == "completed" and order.subscription.status == "active"
    assert [s["msisdn"] for s in demo_netsim.subscribers()] == [order.subscription.identifier]
    request.refresh_from_db()
    assert [(x.kind, x.outcome) for x in request.exchanges.order_by("id")] == [("request", "accepted"),
                                                                                ("callback", "completed")]
    csr = login(make_user("nora", {nordlink: ["customers.view", "provisioning.view"]}), nordlink)
    tab = csr.get(f"/customers/{customer.pk}/", {"tab": "provisioning"})
    assert tab.status_code == 200 and f"/provisioning/{request.pk}/" in tab.content.decode()
    page = csr.get(f"/provisioning/{request.pk}/").content.decode()
    assert demo.NETSIM_API_KEY not in page and request.correlation_id in page and "completed" in page
