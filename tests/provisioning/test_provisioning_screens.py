"""The provisioning log and a request's page (rights, brand isolation, filters, masking), the manual
adapter's queue, target configuration (sealed credentials), and the automatic flows refused to a brand
whose network target is manual."""

from __future__ import annotations

import datetime as dt

import pytest
from provisioning_helpers import SECRET, configure

from gui_helpers import login
from telora.core import clock
from telora.core.services import ServiceError
from telora.provisioning import services
from telora.provisioning.adapters import Outcome, mask
from telora.provisioning.models import NetworkTarget, ProvisioningRequest

pytestmark = pytest.mark.django_db


def queue(brand, system, msisdn, key, operation="create", at=None):
    return services.create_request(brand, operation=operation, payload={"msisdn": msisdn, "pin1": "1234"},
                                   idempotency_key=key, actor=system, at=at or clock.now())


@pytest.fixture
def two_brands(brand_a, brand_b, system):
    configure(brand_a, system)
    configure(brand_b, system)
    return queue(brand_a, system, "31610000001", "a-1"), queue(brand_b, system, "447400100001", "b-1")


def test_a_user_sees_the_log_of_their_brand_only_and_another_brands_request_is_404(make_user, brand_a, two_brands):
    mine, theirs = two_brands
    client = login(make_user("pia", {brand_a: ["provisioning.view"]}), brand_a)
    page = client.get("/provisioning/")
    assert page.status_code == 200
    assert list(page.context["object_list"]) == [mine]
    assert client.get(f"/provisioning/{mine.pk}/").status_code == 200
    assert client.get(f"/provisioning/{theirs.pk}/").status_code == 404


def test_the_log_needs_the_provisioning_right(make_user, brand_a, two_brands):
    client = login(make_user("oli", {brand_a: ["orders.view"]}), brand_a)
    assert client.get("/provisioning/").status_code == 403
    assert client.get(f"/provisioning/{two_brands[0].pk}/").status_code == 404


def test_the_log_filters_by_state_operation_target_and_age(make_user, brand_a, system, two_brands):
    old = queue(brand_a, system, "31610000002", "a-2", operation="bar", at=clock.now() - dt.timedelta(days=3))
    client = login(make_user("pia", {brand_a: ["provisioning.view"]}), brand_a)

    def shown(**filters):
        return {r.pk for r in client.get("/provisioning/", filters).context["object_list"]}

    assert shown(operation="bar") == {old.pk}
    assert shown(age="1d") == {two_brands[0].pk}
    assert shown(age="stuck") == {old.pk}
    assert shown(state="completed") == set()
    assert shown(target="network") == {old.pk, two_brands[0].pk}
    assert shown(q="31610000002") == {old.pk}


def test_the_request_page_shows_the_exchanges_with_secrets_masked(make_user, brand_a, system, two_brands):
    request = two_brands[0]
    services.record_outcome(request.pk, Outcome("accepted", correlation_id="NS-1", url="https://mvne/v1/requests",
                                                request_headers={"Authorization": "Bearer s3cr3t-key"},
                                                request_body='{"payload": {"msisdn": "1", "pin1": "1234"}}',
                                                status_code=202, response_body='{"correlation_id": "NS-1"}'),
                            at=clock.now())
    client = login(make_user("pia", {brand_a: ["provisioning.view"]}), brand_a)
    html = client.get(f"/provisioning/{request.pk}/").content.decode()
    assert "NS-1" in html and "acknowledged" in html
    assert "s3cr3t-key" not in html and "1234" not in html
    assert request.exchanges.get().request_headers == {"Authorization": "***"}


def test_mask_hides_sim_secrets_and_keys_but_not_ordinary_fields():
    assert mask({"operation": "create", "kind": "x", "pin1": "1", "puk": "2", "ki": "3", "api_key": "4",
                 "nested": [{"callback_secret": "5", "msisdn": "316"}]}) == {
        "operation": "create", "kind": "x", "pin1": "***", "puk": "***", "ki": "***", "api_key": "***",
        "nested": [{"callback_secret": "***", "msisdn": "316"}]}


def test_credentials_are_sealed_and_kept_when_not_given_again(brand_a, system):
    target = configure(brand_a, system)
    assert SECRET.encode() not in bytes(target.sealed_credentials)
    assert services.credentials(target)["callback_secret"] == SECRET
    services.configure_target(brand_a, adapter="mvne_json", url="https://other.example/", actor=system,
                              at=clock.now())
    target.refresh_from_db()
    assert services.credentials(target)["callback_secret"] == SECRET
    copied = NetworkTarget.objects.create(brand=brand_a, code="other", name="x", adapter="manual",
                                          sealed_credentials=target.sealed_credentials, created_at=clock.now(),
                                          updated_at=clock.now())
    with pytest.raises(Exception, match="altered or belong to another target"):
        services.credentials(copied)  # sealed to its own row


def test_the_same_idempotency_key_gives_the_same_request(brand_a, system):
    configure(brand_a, system)
    first = queue(brand_a, system, "31610000001", "same")
    assert queue(brand_a, system, "31610000001", "same") == first
    assert ProvisioningRequest.objects.count() == 1


def test_backoff_doubles_with_jitter_and_is_capped():
    for tries in (1, 2, 3, 4):
        base = services.BACKOFF_BASE * 2 ** (tries - 1)
        waits = {services.backoff(tries) for _ in range(20)}
        assert all(base / 2 <= w <= base for w in waits) and len(waits) > 1
    assert services.backoff(40) <= services.BACKOFF_CAP


def test_the_manual_adapter_waits_for_a_person_who_needs_the_work_right(make_user, brand_a, system):
    configure(brand_a, system, adapter="manual")
    request = queue(brand_a, system, "31610000001", "m-1")
    assert services.send_due(at=clock.now()) == {"waiting": 1}
    request.refresh_from_db()
    assert request.state == "sent" and request.exchanges.get().kind == "manual"
    viewer = login(make_user("vic", {brand_a: ["provisioning.view"]}), brand_a)
    assert "manual-form" not in viewer.get(f"/provisioning/{request.pk}/").content.decode()
    assert viewer.post(f"/provisioning/{request.pk}/manual/", {"outcome": "completed"}).status_code == 403
    worker = login(make_user("wes", {brand_a: ["provisioning.view", "provisioning.work"]}), brand_a)
    assert "manual-form" in worker.get(f"/provisioning/{request.pk}/").content.decode()
    worker.post(f"/provisioning/{request.pk}/manual/", {"outcome": "completed", "reference": "HOST-77"})
    request.refresh_from_db()
    assert (request.state, request.correlation_id) == ("completed", "HOST-77")
    with pytest.raises(ServiceError):
        services.complete_by_hand(request, actor=system, at=clock.now())


def test_a_target_keeps_the_secrets_not_typed_again(brand_a, system):
    target = configure(brand_a, system)
    services.configure_target(brand_a, adapter="mvne_json", url=target.url, secrets={"api_key": "new-key"},
                              actor=system, at=clock.now())
    target.refresh_from_db()
    assert services.credentials(target) == {"api_key": "new-key", "callback_secret": "test-callback-secret"}


def test_too_many_transient_tries_fail_the_request(brand_a, system):
    configure(brand_a, system, max_tries=2)  # its URL answers nothing (port 9)
    request = queue(brand_a, system, "31610000001", "t-1")
    assert services.send_due(at=clock.now()) == {"transient": 1}
    request.refresh_from_db()
    assert services.send_due(at=request.next_try_at) == {"transient": 1}
    request.refresh_from_db()
    assert (request.state, request.error_code, request.tries) == ("failed", "too_many_tries", 2)


def test_a_brand_with_a_manual_target_keeps_the_desk_flows(brand_a, system):
    from telora.provisioning.flows import install_automatic_flows

    with pytest.raises(ServiceError, match="manual"):
        install_automatic_flows(brand_a, actor=system, at=clock.now())
    configure(brand_a, system, adapter="manual")
    with pytest.raises(ServiceError, match="manual"):
        install_automatic_flows(brand_a, actor=system, at=clock.now())


def test_the_menu_lists_provisioning_for_a_user_holding_it(make_user, brand_a):
    client = login(make_user("pia", {brand_a: ["provisioning.view"]}), brand_a)
    assert "provisioning" in [area.code for area in client.get("/provisioning/").context["menu"]]


def test_targets_are_configured_on_screen_with_write_only_secrets(make_user, brand_a, brand_b, system):
    configure(brand_b, system)
    viewer = login(make_user("vic", {brand_a: ["provisioning.view"]}), brand_a)
    assert viewer.get("/provisioning/targets/").status_code == 200
    assert viewer.get("/provisioning/targets/new/").status_code == 403
    admin = login(make_user("ada", {brand_a: ["provisioning.view", "provisioning.change"]}), brand_a)
    form = {"code": "network", "name": "Host", "adapter": "mvne_json", "url": "https://mvne.example/",
            "callback_url": "https://telora.example/provisioning/callback/1/", "desk": "network",
            "timeout_seconds": 5, "max_tries": 4, "api_key": "key-one", "callback_secret": "sig-one"}
    assert admin.post("/provisioning/targets/new/", {**form, "url": ""}).status_code == 200  # refused: no URL
    assert admin.post("/provisioning/targets/new/", form).status_code == 302
    target = NetworkTarget.objects.get(brand=brand_a)
    assert services.credentials(target) == {"api_key": "key-one", "callback_secret": "sig-one"}
    page = admin.get("/provisioning/targets/network/").content.decode()
    assert "key-one" not in page and "sig-one" not in page and "Credentials are stored" in page
    assert admin.post("/provisioning/targets/network/", {**form, "api_key": "", "callback_secret": "sig-two"}
                      ).status_code == 302
    target.refresh_from_db()
    assert services.credentials(target) == {"api_key": "key-one", "callback_secret": "sig-two"}
    assert [t.brand_id for t in admin.get("/provisioning/targets/").context["object_list"]] == [brand_a.pk]
    from telora.core.models import AuditEvent

    changes = AuditEvent.objects.filter(object_type="provisioning.networktarget").order_by("id").last().changes
    assert "sig-two" not in str(changes) and "callback_secret" in str(changes)


def test_the_customer_page_has_a_provisioning_tab_for_those_who_may_see_it(make_user, ann, system):
    from telora.customers import services as s

    configure(ann.brand, system)
    line = s.create_subscription(ann, actor=system, at=clock.now(), billing_account=ann.accounts.get(),
                                 service_type="mobile_postpaid", plan="MOB_POST_BASIC")
    request = services.create_request(ann.brand, operation="bar", payload={"msisdn": line.identifier},
                                      subscription=line, idempotency_key="tab-1", actor=system, at=clock.now())
    reader = login(make_user("ria", {ann.brand: ["customers.view", "provisioning.view"]}), ann.brand)
    page = reader.get(f"/customers/{ann.pk}/", {"tab": "provisioning"})
    assert page.status_code == 200 and f"/provisioning/{request.pk}/" in page.content.decode()
    other = login(make_user("cas", {ann.brand: ["customers.view"]}), ann.brand)
    assert other.get(f"/customers/{ann.pk}/", {"tab": "provisioning"}).status_code == 404


def _signed_up(ann, system):
    from telora.orders.services import create_order
    from telora.workflows.models import HumanTask
    from telora.workflows.services import complete_task

    order = create_order(ann, actor=system, at=clock.now(), order_type="sign_up", items=[{
        "product_offering": "MOB_POST_BASIC", "characteristics": {"service_type": "mobile_postpaid"}}])
    order.refresh_from_db()
    complete_task(HumanTask.objects.get(instance_id=order.flow_instance_id, state="open"),
                  data={"decision": "approved"}, actor=system, at=clock.now())
    return order, ProvisioningRequest.objects.get(order=order)


def test_cancelling_a_sign_up_takes_its_provisioning_back(ann, system, flows_loaded):
    from telora.orders.services import cancel_order
    from telora.provisioning.flows import install_automatic_flows

    configure(ann.brand, system)
    install_automatic_flows(ann.brand, actor=system, at=clock.now())
    order, request = _signed_up(ann, system)
    assert request.state == "queued"
    cancel_order(order, actor=system, at=clock.now(), reason="changed her mind")
    request.refresh_from_db()
    assert request.state == "cancelled"  # never sent

    order, request = _signed_up(ann, system)
    services.complete_by_hand(request, reference="HOST-1", actor=system, at=clock.now())  # the network has it
    cancel_order(order, actor=system, at=clock.now(), reason="changed her mind")
    undo = ProvisioningRequest.objects.get(idempotency_key=f"{request.idempotency_key}:undo")
    assert (undo.operation, undo.state, undo.payload["msisdn"]) == ("delete", "queued", request.payload["msisdn"])


def test_an_open_breaker_is_announced_in_the_log_and_on_the_targets_list(make_user, brand_a, brand_b, system):
    from telora.provisioning.models import TargetReliability

    mine, theirs = configure(brand_a, system), configure(brand_b, system)
    for target in (mine, theirs):
        TargetReliability.objects.create(brand=target.brand, target=target, state="open", updated_at=clock.now(),
                                         retry_at=clock.now() + dt.timedelta(seconds=30), last_error="http_503: down")
    client = login(make_user("pia", {brand_a: ["provisioning.view"]}), brand_a)
    log = client.get("/provisioning/").content.decode()
    assert "data-testid=\"breaker-open-network\"" in log and "http_503: down" in log
    assert log.count("breaker-open-") == 1  # brand B's breaker is not shown to brand A
    targets = client.get("/provisioning/targets/").content.decode()
    assert 'data-testid="breaker-network">open<' in targets
    page = client.get("/provisioning/targets/network/reconcile/")
    assert page.status_code == 200 and 'data-state="open"' in page.content.decode()
