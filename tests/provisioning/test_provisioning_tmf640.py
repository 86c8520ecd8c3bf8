"""TMF640 Service Activation and Configuration: each provisioned line as a Service whose state is the
network's (from its requests), each request as a Monitor with masked bodies; filters, attribute
selection, paging, rights and brand isolation; answers valid against the spec's schema."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema_rs
import pytest
from provisioning_helpers import configure

from api_client import ApiClient
from shop_helpers import make_customer, make_shop
from telora.core import clock
from telora.core.services.users import create_api_key
from telora.customers import services as s
from telora.provisioning import services
from telora.provisioning.adapters import Outcome

pytestmark = pytest.mark.django_db

BASE = "/tmf-api/serviceActivationAndConfiguration/v4"
SCHEMA = json.loads((Path(__file__).parent / "tmf640_schema.json").read_text())


def strict(definitions: dict) -> dict:
    """The spec's definitions with no attribute beyond those it names (the spec leaves objects open)."""
    closed = json.loads(json.dumps(definitions))
    for definition in closed.values():
        if definition.get("type") == "object" and "properties" in definition:
            definition["additionalProperties"] = False
    return closed


def assert_valid(body, definition: str):
    schema = {"definitions": strict(SCHEMA["definitions"]), "$ref": f"#/definitions/{definition}"}
    validator = jsonschema_rs.Draft4Validator(schema, validate_formats=False)  # hrefs are absolute paths
    errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, errors


def client_for(system, make_user, username, grants):
    """An API client with a key of a new user holding `grants` ({brand: [perm, ...]})."""
    user = make_user(username, grants)
    _key, token = create_api_key(actor=system, at=clock.now(), user=user, name="test", brands=list(grants),
                                 permissions=sorted({p for ps in grants.values() for p in ps}))
    return ApiClient(token)


def request_for(line, operation, key, *, system, at=None):
    payload = {"msisdn": line.identifier, "iccid": line.sim.iccid, "imsi": line.sim.imsi, "pin1": "1234",
               "services": ["MOB_POST_BASIC"]}
    return services.create_request(line.brand, operation=operation, payload=payload, subscription=line,
                                   idempotency_key=key, actor=system, at=at or clock.now())


@pytest.fixture
def line(ann, system):
    configure(ann.brand, system)
    return s.create_subscription(ann, actor=system, at=clock.now(), billing_account=ann.accounts.get(),
                                 service_type="mobile_postpaid", plan="MOB_POST_BASIC")


@pytest.fixture
def viewer(ann, system, make_user):
    return client_for(system, make_user, "vic", {ann.brand: ["provisioning.view"]})


def test_a_created_line_is_an_active_service_with_its_sim_number_and_customer(line, viewer, system):
    created = request_for(line, "create", "c-1", system=system)
    services.record_outcome(created.pk, Outcome("completed", correlation_id="NS-1", url="https://mvne/v1/requests",
                                                request_headers={"Authorization": "Bearer s3cret"},
                                                request_body='{"payload": {"pin1": "1234"}}', status_code=200,
                                                response_body='{"status": "completed"}'), at=clock.now())
    response = viewer.get(f"{BASE}/service/{line.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert_valid(body, "Service")
    chars = {c["name"]: c["value"] for c in body["serviceCharacteristic"]}
    assert chars == {"MSISDN": line.identifier, "ICCID": line.sim.iccid, "IMSI": line.sim.imsi, "barred": False,
                     "services": ["MOB_POST_BASIC"], "operatorReference": "NS-1"}
    assert (body["state"], body["hasStarted"], body["isServiceEnabled"], body["startMode"]) == ("active", True, True,
                                                                                             "1")
    assert body["relatedParty"] == [{"id": str(line.customer_id), "name": line.customer.name, "role": "customer",
                                     "href": f"/tmf-api/customerManagement/v4/customer/{line.customer_id}",
                                     "@referredType": "Customer"}]
    assert {r["@referredType"]: r["id"] for r in body["supportingResource"]} == {
        "SimCard": line.sim.iccid, "PhoneNumber": line.identifier}
    assert body["serviceSpecification"]["id"] == "mobile_postpaid"
    assert body["relatedEntity"][0]["href"] == f"/tmf-api/productInventory/v4/product/{line.pk}"
    assert dt.datetime.fromisoformat(body["startDate"]) == created.__class__.objects.get(pk=created.pk).completed_at
    assert [n["id"] for n in body["note"]] == [str(created.pk)]
    assert f"{BASE}/monitor/{created.pk}" in body["note"][0]["text"] and "NS-1" in body["note"][0]["text"]


@pytest.mark.parametrize(("steps", "state", "barred"), [
    ([("create", None)], "reserved", False),                                   # on its way: SIM and number held
    ([("create", "failed")], "designed", False),                               # refused: only on paper
    ([("create", "completed"), ("bar", "completed")], "inactive", True),
    ([("create", "completed"), ("bar", "completed"), ("unbar", "completed")], "active", False),
    ([("create", "completed"), ("bar", None)], "active", False),                # a bar not done yet changes nothing
    ([("create", "completed"), ("delete", "completed")], "terminated", False),
    ([("bar", "completed")], "inactive", True),                                # created before Telora provisioned it
    ([("change_services", None)], "active", False),                            # no lifecycle: the line's own status
])
def test_the_service_state_is_the_networks(line, viewer, system, steps, state, barred):
    moment = clock.now()
    for n, (operation, outcome) in enumerate(steps):
        moment += dt.timedelta(minutes=1)
        request = request_for(line, operation, f"k-{n}", system=system, at=moment)
        if outcome == "completed":
            services.complete_by_hand(request, reference=f"R{n}", actor=system, at=moment)
        elif outcome == "failed":
            services.complete_by_hand(request, failed=True, reason="no", actor=system, at=moment)
    body = viewer.get(f"{BASE}/service/{line.pk}").json()
    assert_valid(body, "Service")
    assert body["state"] == state
    assert {c["name"]: c["value"] for c in body["serviceCharacteristic"]}["barred"] is barred
    assert body["isServiceEnabled"] is (state == "active")
    listed = viewer.get(f"{BASE}/service", state=state)
    assert [item["id"] for item in listed.json()] == [str(line.pk)]
    others = ",".join(x for x in ("designed", "reserved", "inactive", "active", "terminated") if x != state)
    assert viewer.get(f"{BASE}/service", state=others).json() == []


def test_a_monitor_shows_the_request_and_the_answer_masked(line, viewer, system):
    request = request_for(line, "create", "m-1", system=system)
    pending = viewer.get(f"{BASE}/monitor/{request.pk}").json()
    assert_valid(pending, "Monitor")
    assert pending["state"] == "InProgress" and "response" not in pending
    assert pending["sourceHref"] == f"{BASE}/service/{line.pk}"
    assert "1234" not in pending["request"]["body"] and '"operation": "create"' in pending["request"]["body"]
    services.record_outcome(request.pk, Outcome("accepted", correlation_id="NS-9", url="https://mvne/v1/requests",
                                                request_headers={"Authorization": "Bearer s3cret",
                                                                 "Idempotency-Key": "m-1"},
                                                request_body='{"payload": {"pin1": "1234", "msisdn": "31"}}',
                                                status_code=202, response_body='{"correlation_id": "NS-9"}'),
                            at=clock.now())
    accepted = viewer.get(f"{BASE}/monitor/{request.pk}").json()
    assert_valid(accepted, "Monitor")
    assert accepted["state"] == "InProgress"
    assert accepted["request"]["to"] == "https://mvne/v1/requests" and accepted["request"]["method"] == "POST"
    assert {h["name"]: h["value"] for h in accepted["request"]["header"]} == {"Authorization": "***",
                                                                              "Idempotency-Key": "m-1"}
    assert "1234" not in accepted["request"]["body"] and "s3cret" not in json.dumps(accepted)
    assert accepted["response"]["statusCode"] == "202" and "NS-9" in accepted["response"]["body"]
    services.complete_by_hand(request, failed=True, reason="HLR refused", actor=system, at=clock.now())
    failed = viewer.get(f"{BASE}/monitor/{request.pk}").json()
    assert_valid(failed, "Monitor")
    assert failed["state"] == "InError" and "HLR refused" in failed["response"]["body"]


def test_a_manual_requests_monitor_names_the_desk_and_the_persons_answer(line, viewer, system):
    services.configure_target(line.brand, adapter="manual", actor=system, at=clock.now())
    request = request_for(line, "create", "man-1", system=system)
    services.send_due(at=clock.now())
    waiting = viewer.get(f"{BASE}/monitor/{request.pk}").json()
    assert_valid(waiting, "Monitor")
    assert (waiting["state"], waiting["request"]["method"], waiting["request"]["to"]) == ("InProgress", "manual",
                                                                                         "desk:network")
    assert "1234" not in waiting["request"]["body"] and "response" not in waiting
    services.complete_by_hand(request, reference="HOST-5", by="wes", actor=system, at=clock.now())
    done = viewer.get(f"{BASE}/monitor/{request.pk}").json()
    assert_valid(done, "Monitor")
    assert done["state"] == "Completed" and '"by": "wes"' in done["response"]["body"]
    service = viewer.get(f"{BASE}/service/{line.pk}").json()
    assert (service["state"], service["startMode"]) == ("active", "3")  # manually by the provider


def test_monitors_list_newest_first_with_filters_and_field_selection(line, viewer, system):
    first = request_for(line, "create", "l-1", system=system, at=clock.now() - dt.timedelta(hours=2))
    services.complete_by_hand(first, reference="R1", actor=system, at=clock.now())
    second = request_for(line, "bar", "l-2", system=system)
    listed = viewer.get(f"{BASE}/monitor")
    assert [m["id"] for m in listed.json()] == [str(second.pk), str(first.pk)]
    assert listed["X-Total-Count"] == "2"
    for item in listed.json():
        assert_valid(item, "Monitor")
    assert [m["id"] for m in viewer.get(f"{BASE}/monitor", state="Completed").json()] == [str(first.pk)]
    assert [m["id"] for m in viewer.get(f"{BASE}/monitor", state="InProgress,InError").json()] == [str(second.pk)]
    assert len(viewer.get(f"{BASE}/monitor", sourceHref=f"{BASE}/service/{line.pk}").json()) == 2
    assert viewer.get(f"{BASE}/monitor", **{"service.id": "999999"}).json() == []
    assert viewer.get(f"{BASE}/monitor", fields="state").json()[0] == {"id": str(second.pk),
                                                                       "href": f"{BASE}/monitor/{second.pk}",
                                                                       "@type": "Monitor", "state": "InProgress"}
    bad = viewer.get(f"{BASE}/monitor", state="Done")
    assert bad.status_code == 400 and bad.json()["field"] == "state"
    assert viewer.get(f"{BASE}/monitor", sourceHref="/elsewhere/1").json()["field"] == "sourceHref"
    assert viewer.get(f"{BASE}/monitor", sourceHref=f"{BASE}/service/x").json()["field"] == "sourceHref"
    assert viewer.get(f"{BASE}/monitor", **{"service.id": "x"}).json()["field"] == "service.id"
    assert viewer.get(f"{BASE}/monitor", limit=1, offset=1).json()[0]["id"] == str(first.pk)


def test_services_filter_by_number_customer_sim_and_type(line, viewer, system):
    request_for(line, "create", "f-1", system=system)
    spelled = "+" + line.identifier[:2] + " " + line.identifier[2:]

    def ids(**filters):
        response = viewer.get(f"{BASE}/service", **filters)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()]

    assert ids(name=spelled) == [str(line.pk)] and ids(name="999") == []
    assert ids(**{"relatedParty.id": str(line.customer_id)}) == [str(line.pk)]
    assert ids(**{"supportingResource.id": line.sim.iccid}) == [str(line.pk)]
    assert ids(serviceType="fiber") == [] and ids(serviceType="mobile_postpaid,fiber") == [str(line.pk)]
    assert viewer.get(f"{BASE}/service", state="sleeping").json()["field"] == "state"
    assert viewer.get(f"{BASE}/service", fields="nickname").json()["field"] == "fields"
    assert set(viewer.get(f"{BASE}/service/{line.pk}", fields="state").json()) == {"id", "href", "@type", "state"}


def test_a_line_never_provisioned_is_no_service(line, viewer, ann, system):
    assert viewer.get(f"{BASE}/service").json() == []
    assert viewer.get(f"{BASE}/service/{line.pk}").status_code == 404


def test_rights_and_brand_isolation(line, ann, brand_b, system, make_user):
    mine = request_for(line, "create", "iso-a", system=system)
    make_shop(brand_b, system, ("+44 7400 100001",), "8944100000", 50)
    bob = make_customer(brand_b, system, "Bob")
    configure(brand_b, system)
    theirs_line = s.create_subscription(bob, actor=system, at=clock.now(), billing_account=bob.accounts.get(),
                                        service_type="mobile_postpaid", plan="MOB_POST_BASIC")
    theirs = request_for(theirs_line, "create", "iso-b", system=system)
    a_key = client_for(system, make_user, "ana", {ann.brand: ["provisioning.view"]})
    assert [x["id"] for x in a_key.get(f"{BASE}/service").json()] == [str(line.pk)]
    assert [x["id"] for x in a_key.get(f"{BASE}/monitor").json()] == [str(mine.pk)]
    assert a_key.get(f"{BASE}/service/{theirs_line.pk}").status_code == 404
    assert a_key.get(f"{BASE}/monitor/{theirs.pk}").status_code == 404
    b_key = client_for(system, make_user, "bea", {brand_b: ["provisioning.view"]})
    assert b_key.get(f"{BASE}/service/{theirs_line.pk}").status_code == 200
    assert b_key.get(f"{BASE}/service/{line.pk}").status_code == 404
    no_right = client_for(system, make_user, "cas", {ann.brand: ["customers.view"]})
    assert no_right.get(f"{BASE}/service").status_code == 403
    assert no_right.get(f"{BASE}/monitor/{mine.pk}").status_code == 403
    assert ApiClient().get(f"{BASE}/service").status_code == 401


def test_the_api_has_its_own_openapi_document(viewer):
    document = viewer.get(f"{BASE}/openapi.json").json()
    assert {f"{BASE}/service", f"{BASE}/service/{{id}}", f"{BASE}/monitor", f"{BASE}/monitor/{{id}}"} <= set(
        document["paths"])
    assert document["info"]["title"] == "Service Activation and Configuration (TMF640)"
