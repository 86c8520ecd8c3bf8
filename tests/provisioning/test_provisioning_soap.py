"""The SOAP adapters (zeep) against netsim's SOAP side running as its own process: every operation, SOAP
1.1 and 1.2, business faults (permanent) and server faults and time-outs (retried with the same
TransactionId, acting once), WS-Security credentials (wrong ones refused, the password never stored),
the WSDL the simulator serves, and a target chosen on screen with its SOAP credentials."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from provisioning_helpers import Netsim

from gui_helpers import login
from telora.core import clock
from telora.provisioning import services
from telora.provisioning.adapters import get_adapter, mask_text
from telora.provisioning.models import NetworkTarget, ProvisioningRequest

pytestmark = pytest.mark.django_db

SOAP_USER, SOAP_PASSWORD = "mvno-telora", "s3cret-Pa55word"
LINE = {"msisdn": "+31 6 10000001", "imsi": "204080000000001", "iccid": "8931440400000000001",
        "services": ["VOICE", "DATA"]}


@pytest.fixture
def soapsim(tmp_path):
    """netsim as its own process, with the SOAP credentials of these tests; stopped by its pid."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "telora.provisioning.netsim", "--port", "0", "--dir", str(tmp_path / "netsim"),
         "--soap-username", SOAP_USER, "--soap-password", SOAP_PASSWORD, "--timeout-delay", "2.5"],
        stdout=subprocess.PIPE, text=True, env=env)
    line = process.stdout.readline()
    assert line.startswith("netsim listening on "), line
    yield Netsim(process, line.split()[-1])
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def soap_target(brand, system, url, *, adapter="hlr_soap", password=SOAP_PASSWORD, **options):
    return services.configure_target(brand, adapter=adapter, name="Host operator HLR (SOAP)", url=url + "/soap",
                                     secrets={"username": SOAP_USER, "password": password}, actor=system,
                                     at=clock.now(), **options)


def send(brand, system, operation, key, **payload):
    request = services.create_request(brand, operation=operation, payload={**LINE, **payload}, idempotency_key=key,
                                      actor=system, at=clock.now())
    counts = services.send_due(at=clock.now())
    request.refresh_from_db()
    return request, counts


@pytest.mark.parametrize("adapter", ["hlr_soap", "hlr_soap12"])
def test_every_operation_is_carried_out_in_the_call(brand_a, system, soapsim, adapter):
    soap_target(brand_a, system, soapsim.url, adapter=adapter)
    created, counts = send(brand_a, system, "create", "k-create")
    assert counts == {"completed": 1}
    assert created.state == "completed" and created.correlation_id.startswith("NSS-")
    assert created.result == {"msisdn": "31610000001", "imsi": "204080000000001", "iccid": "8931440400000000001",
                              "barred": False, "services": ["VOICE", "DATA"]}

    def subscriber():
        return soapsim.subscribers()[0]

    assert send(brand_a, system, "change_services", "k-svc", services=["VOICE", "DATA", "ROAMING"])[0].state \
        == "completed"
    assert subscriber()["services"] == ["VOICE", "DATA", "ROAMING"]
    assert send(brand_a, system, "bar", "k-bar")[0].result["barred"] is True
    assert subscriber()["barred"] is True
    assert send(brand_a, system, "unbar", "k-unbar")[0].state == "completed"
    assert subscriber()["barred"] is False
    swapped, _ = send(brand_a, system, "sim_swap", "k-swap", imsi="204080000000002", iccid="8931440400000000002")
    assert (swapped.result["imsi"], subscriber()["iccid"]) == ("204080000000002", "8931440400000000002")
    moved, _ = send(brand_a, system, "number_change", "k-move", new_msisdn="+31 6 10000009")
    assert moved.result["msisdn"] == "31610000009" == subscriber()["msisdn"]
    deleted, _ = send(brand_a, system, "delete", "k-delete", msisdn="31610000009")
    assert deleted.state == "completed" and deleted.result == {"msisdn": "31610000009", "deleted": True}
    assert soapsim.subscribers() == []
    taken = soapsim.requests()["requests"]
    assert [r["idempotency_key"] for r in taken] == ["k-create", "k-svc", "k-bar", "k-unbar", "k-swap", "k-move",
                                                     "k-delete"]
    assert [r["operation"] for r in taken] == ["create", "change_services", "bar", "unbar", "sim_swap",
                                               "number_change", "delete"]


def test_the_exchange_keeps_the_xml_on_the_wire_without_the_password(brand_a, brand_b, system, soapsim, make_user):
    soap_target(brand_a, system, soapsim.url)
    request, _ = send(brand_a, system, "create", "k-1")
    (exchange,) = request.exchanges.all()
    assert (exchange.kind, exchange.status_code, exchange.outcome) == ("request", 200, "completed")
    assert "<ns0:TransactionId>k-1</ns0:TransactionId>" in exchange.request_body
    assert f"<wsse:Username>{SOAP_USER}</wsse:Username>" in exchange.request_body
    assert SOAP_PASSWORD not in exchange.request_body and ">***</wsse:Password>" in exchange.request_body
    assert "CreateSubscriberResponse" in exchange.response_body and request.correlation_id in exchange.response_body
    assert exchange.request_headers["SOAPAction"].endswith('#CreateSubscriber"')
    reader = login(make_user("rex", {brand_a: ["provisioning.view"]}), brand_a)
    page = reader.get(f"/provisioning/{request.pk}/").content.decode()
    assert "&lt;ns0:TransactionId&gt;k-1&lt;/ns0:TransactionId&gt;" in page and SOAP_PASSWORD not in page
    stranger = login(make_user("sid", {brand_b: ["provisioning.view"]}), brand_b)
    assert stranger.get(f"/provisioning/{request.pk}/").status_code == 404


def test_a_digest_password_is_accepted_and_masked_too(brand_a, system, soapsim):
    target = soap_target(brand_a, system, soapsim.url)
    services.configure_target(brand_a, adapter="hlr_soap", url=target.url, secrets={"password_digest": "yes"},
                              actor=system, at=clock.now())
    request, _ = send(brand_a, system, "create", "k-1")
    body = request.exchanges.get().request_body
    assert request.state == "completed" and "#PasswordDigest" in body and ">***</wsse:Password>" in body


def test_wrong_credentials_are_a_permanent_refusal(brand_a, system, soapsim):
    soap_target(brand_a, system, soapsim.url, password="not-the-password")
    request, counts = send(brand_a, system, "create", "k-1")
    assert counts == {"rejected": 1}
    assert (request.state, request.error_code) == ("failed", "AUTHENTICATION_FAILED")
    assert soapsim.subscribers() == [] and soapsim.requests()["requests"] == []


@pytest.mark.parametrize("adapter", ["hlr_soap", "hlr_soap12"])
def test_a_business_fault_fails_the_request_with_the_operators_code(brand_a, system, soapsim, adapter):
    soap_target(brand_a, system, soapsim.url, adapter=adapter)
    soapsim.faults({"kind": "reject", "code": "IMSI_BLOCKED", "message": "the IMSI range is blocked"})
    request, counts = send(brand_a, system, "create", "k-1")
    assert counts == {"rejected": 1}
    assert (request.state, request.error_code, request.error) == ("failed", "IMSI_BLOCKED", "the IMSI range is blocked")
    assert request.exchanges.get().status_code == (500 if adapter == "hlr_soap" else 400)
    assert soapsim.subscribers() == []
    # the network's own rules answer the same way: an unknown subscriber cannot be barred
    barred, _ = send(brand_a, system, "bar", "k-2", msisdn="31610000077")
    assert (barred.state, barred.error_code) == ("failed", "UNKNOWN_SUBSCRIBER")


def test_a_server_fault_is_retried_with_the_same_transaction_id_and_acts_once(brand_a, system, soapsim):
    soap_target(brand_a, system, soapsim.url)
    soapsim.faults({"kind": "5xx", "times": 1})
    request, counts = send(brand_a, system, "create", "k-1")
    assert counts == {"transient": 1}
    assert (request.state, request.tries, request.error_code) == ("queued", 1, "soap_server_fault")
    assert request.exchanges.get().status_code == 500
    assert services.send_due(at=request.next_try_at) == {"completed": 1}
    request.refresh_from_db()
    assert (request.state, request.tries) == ("completed", 2)
    assert len(soapsim.subscribers()) == 1
    assert [r["idempotency_key"] for r in soapsim.requests()["requests"]] == ["k-1"]


def test_a_timeout_after_the_network_acted_is_resent_and_answered_as_the_first_time(brand_a, system, soapsim):
    soap_target(brand_a, system, soapsim.url, timeout_seconds=1)
    soapsim.faults({"kind": "timeout", "times": 1})
    request, counts = send(brand_a, system, "create", "k-1")
    assert counts == {"transient": 1}
    assert (request.state, request.error_code) == ("queued", "timeout")
    assert len(soapsim.subscribers()) == 1  # the network did it, the answer was lost
    assert services.send_due(at=request.next_try_at) == {"completed": 1}  # not SUBSCRIBER_EXISTS: the same id
    request.refresh_from_db()
    assert request.state == "completed"
    assert request.correlation_id == soapsim.requests()["requests"][0]["correlation_id"]
    assert len(soapsim.requests()["requests"]) == 1 and len(soapsim.subscribers()) == 1


def test_a_target_that_does_not_answer_is_transient(brand_a, system):
    services.configure_target(brand_a, adapter="hlr_soap", url="http://127.0.0.1:9/soap",
                              secrets={"username": "u", "password": "p"}, actor=system, at=clock.now())
    request, counts = send(brand_a, system, "create", "k-1")
    assert counts == {"transient": 1}
    assert (request.state, request.error_code) == ("queued", "unreachable")


def test_a_line_the_contract_cannot_carry_is_refused_naming_the_field(brand_a, system, soapsim):
    soap_target(brand_a, system, soapsim.url)
    request, counts = send(brand_a, system, "create", "k-1", imsi="")
    assert counts == {"rejected": 1}
    assert (request.state, request.error_code) == ("failed", "invalid_payload")
    assert request.error.startswith("imsi: missing")
    number, _ = send(brand_a, system, "bar", "k-2", msisdn="12")
    assert number.error.startswith("msisdn: '12' is not an international number")
    assert soapsim.requests()["requests"] == []


def test_get_subscriber_reads_what_the_network_holds(brand_a, system, soapsim):
    target = soap_target(brand_a, system, soapsim.url, adapter="hlr_soap12")
    send(brand_a, system, "create", "k-1")
    adapter = get_adapter("hlr_soap12")
    found = adapter.get_subscriber(target, services.credentials(target), "+31 6 10000001")
    assert found == {"msisdn": "31610000001", "imsi": "204080000000001", "iccid": "8931440400000000001",
                     "barred": False, "services": ["VOICE", "DATA"]}
    assert adapter.get_subscriber(target, services.credentials(target), "31610000002") is None


def test_the_simulator_serves_its_wsdl_which_zeep_reads(soapsim):
    from zeep import Client

    client = Client(soapsim.url + "/soap?wsdl")
    port = client.wsdl.services["HlrProvisioningService"].ports["HlrProvisioningSoap11Port"]
    assert port.binding_options["address"] == soapsim.url + "/soap"
    assert sorted(port.binding._operations) == ["Barring", "ChangeMsisdn", "CreateSubscriber", "DeleteSubscriber",
                                                "GetSubscriber", "ModifyServices", "SwapSim"]


def test_mask_text_hides_secret_xml_elements_and_keeps_the_rest():
    xml = ('<e><wsse:Password Type="x#PasswordText">pw</wsse:Password><wsse:Username>u</wsse:Username>'
           '<Ki>00112233</Ki><Msisdn>31610000001</Msisdn><Pin1/></e>')
    assert mask_text(xml) == ('<e><wsse:Password Type="x#PasswordText">***</wsse:Password>'
                              '<wsse:Username>u</wsse:Username><Ki>***</Ki><Msisdn>31610000001</Msisdn><Pin1/></e>')


def test_a_soap_target_is_chosen_on_screen_with_its_credentials(make_user, brand_a, brand_b, system):
    other = services.configure_target(brand_b, code="hlr-b", adapter="hlr_soap", url="https://hlr.b.example/soap",
                                      secrets={"username": "b", "password": "b-pw"}, actor=system, at=clock.now())
    admin = login(make_user("ada", {brand_a: ["provisioning.view", "provisioning.change"]}), brand_a)
    form = {"code": "network", "name": "Host HLR", "adapter": "hlr_soap", "url": "https://hlr.example/soap",
            "callback_url": "", "desk": "network", "timeout_seconds": 5, "max_tries": 4,
            "username": SOAP_USER, "password": SOAP_PASSWORD}
    assert admin.post("/provisioning/targets/new/", form).status_code == 302
    target = NetworkTarget.objects.get(brand=brand_a)
    assert target.adapter == "hlr_soap"
    assert services.credentials(target) == {"username": SOAP_USER, "password": SOAP_PASSWORD}
    page = admin.get("/provisioning/targets/network/").content.decode()
    assert SOAP_PASSWORD not in page and SOAP_USER not in page and "hlr_soap" in page
    assert admin.post("/provisioning/targets/network/", {**form, "username": "", "password": "new-pw"}
                      ).status_code == 302
    assert services.credentials(NetworkTarget.objects.get(pk=target.pk)) == {"username": SOAP_USER,
                                                                             "password": "new-pw"}
    assert services.automatic(brand_a)  # a SOAP target may run the automatic flows
    # another brand's target is not reachable from brand A's screens
    assert admin.get(f"/provisioning/targets/{other.code}/").status_code == 404
    assert [t.brand_id for t in admin.get("/provisioning/targets/").context["object_list"]] == [brand_a.pk]
    assert ProvisioningRequest.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_sign_up_is_provisioned_through_the_soap_target_in_the_call(ann, system, soapsim, flows_loaded):
    """The automatic sign-up flow on a SOAP target: the answer in the call ends the request and wakes the flow."""
    from telora.orders.services import create_order
    from telora.provisioning.flows import install_automatic_flows
    from telora.workflows.models import HumanTask
    from telora.workflows.services import complete_task

    soap_target(ann.brand, system, soapsim.url)
    assert "signup_mobile_postpaid" in install_automatic_flows(ann.brand, actor=system, at=clock.now())
    order = create_order(ann, actor=system, at=clock.now(), order_type="sign_up", items=[{
        "product_offering": "MOB_POST_BASIC", "characteristics": {"service_type": "mobile_postpaid"}}])
    order.refresh_from_db()
    complete_task(HumanTask.objects.get(instance_id=order.flow_instance_id, state="open"),
                  data={"decision": "approved"}, actor=system, at=clock.now())
    assert services.send_due(at=clock.now()) == {"completed": 1}
    order.refresh_from_db()
    assert order.state == "completed" and order.subscription.status == "active"
    [subscriber] = soapsim.subscribers()
    line = order.subscription
    assert (subscriber["iccid"], "MOB_POST_BASIC" in subscriber["services"]) == (line.sim.iccid, True)
    request = ProvisioningRequest.objects.get(order=order)
    assert request.idempotency_key == soapsim.requests()["requests"][0]["idempotency_key"]


def test_a_replayed_digest_token_is_refused(soapsim):
    """A captured PasswordDigest token sent again (same nonce) is refused, even within its 5 minutes."""
    import base64
    import datetime as dt
    import hashlib
    import urllib.error
    import urllib.request

    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    nonce = b"0123456789abcdef"
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + SOAP_PASSWORD.encode()).digest()).decode()
    envelope = f"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"
      xmlns:h="urn:telora:netsim:hlr-provisioning:1"
      xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
      xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><s:Header>
      <h:TransactionHeader><h:TransactionId>get-1</h:TransactionId></h:TransactionHeader>
      <wsse:Security><wsse:UsernameToken><wsse:Username>{SOAP_USER}</wsse:Username>
      <wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">{digest}</wsse:Password>
      <wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce><wsu:Created>{created}</wsu:Created>
      </wsse:UsernameToken></wsse:Security></s:Header>
      <s:Body><h:GetSubscriberRequest><h:Msisdn>31610000001</h:Msisdn></h:GetSubscriberRequest></s:Body></s:Envelope>"""

    def code():
        request = urllib.request.Request(soapsim.url + "/soap", data=envelope.encode(), method="POST",
                                         headers={"Content-Type": "text/xml; charset=utf-8"})
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(request, timeout=10)
        body = failed.value.read().decode()
        return body.split("<hlr:Code>")[1].split("</hlr:Code>")[0]

    assert code() == "UNKNOWN_SUBSCRIBER"  # let in: the number is simply not there
    assert code() == "AUTHENTICATION_FAILED"  # the same token again
