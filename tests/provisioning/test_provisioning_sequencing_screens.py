"""Provisioning -> Sequencing: the page reads per operation as a product manager would (steps, what they
send, for which lines, after what, and the YAML); a file is checked first (a dry run listing the changes)
and applied with provisioning.change only; one brand never sees another's sequencing."""

from __future__ import annotations

import pytest
from provisioning_helpers import configure

from gui_helpers import login
from telora.core import clock
from telora.provisioning import sequencing
from telora.provisioning.models import Sequencing
from telora.provisioning.sequencing_services import apply_sequencing

pytestmark = pytest.mark.django_db

SECRET_STEP = """\
target: network
operations:
  activate:
    - step: create_subscriber
      do: create
    - step: brand_a_special
      do: change_services
      description: Only brand A does this.
      services: {data: true}
      when: [data]
      after: [create_subscriber]
"""


@pytest.fixture
def two_brands(brand_a, brand_b, system):
    configure(brand_a, system)
    configure(brand_b, system)
    apply_sequencing(brand_a, SECRET_STEP, actor=system, at=clock.now(), source="a.yaml")
    return brand_a, brand_b


def test_the_page_shows_each_operations_steps_and_the_yaml(make_user, two_brands):
    brand_a, _ = two_brands
    client = login(make_user("pia", {brand_a: ["provisioning.view"]}), brand_a)
    page = client.get("/provisioning/sequencing/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-operation="activate" data-step="brand_a_special"' in html
    assert "Only brand A does this." in html and "with data" in html
    assert 'data-operation="terminate" data-step="delete"' in html  # not configured: the one request
    assert "version 1" in html and "a.yaml" in html
    assert [op["operation"] for op in page.context["operations"]] == list(sequencing.ORDER_OPERATIONS)
    assert page.context["yaml_text"] == sequencing.to_yaml(sequencing.load_text(SECRET_STEP))
    assert "Applying needs provisioning.change." in html


def test_another_brands_sequencing_is_never_shown(make_user, two_brands):
    _, brand_b = two_brands
    client = login(make_user("bob", {brand_b: ["provisioning.view", "provisioning.change"]}), brand_b)
    html = client.get("/provisioning/sequencing/").content.decode()
    assert "brand_a_special" not in html and "not configured" in html
    exported = client.get("/provisioning/sequencing/export/").content.decode()
    assert "brand_a_special" not in exported
    assert sequencing.load_text(exported) == sequencing.default_document()  # what B would start from
    assert client.get("/provisioning/sequencing/?target=network").context["target"].brand_id == brand_b.pk


def test_the_page_needs_the_provisioning_right(make_user, two_brands):
    brand_a, _ = two_brands
    client = login(make_user("oli", {brand_a: ["orders.view"]}), brand_a)
    assert client.get("/provisioning/sequencing/").status_code == 403
    assert client.get("/provisioning/sequencing/export/").status_code == 403
    assert client.post("/provisioning/sequencing/", {"text": SECRET_STEP, "action": "apply"}).status_code == 403


def test_a_viewer_may_check_a_file_but_not_apply_it(make_user, two_brands):
    brand_a, _ = two_brands
    client = login(make_user("pia", {brand_a: ["provisioning.view"]}), brand_a)
    changed = SECRET_STEP.replace("when: [data]", "when: [data, roaming]")
    checked = client.post("/provisioning/sequencing/", {"text": changed, "action": "check"})
    assert checked.context["result"].changes == [
        ("update", "activate.brand_a_special",
         "change services; enable data; for lines with data and roaming; after create_subscriber")]
    refused = client.post("/provisioning/sequencing/", {"text": changed, "action": "apply"})
    assert "You lack provisioning.change" in refused.content.decode()
    assert Sequencing.objects.get(brand=brand_a).version == 1


def test_check_then_apply_what_was_checked(make_user, two_brands):
    from telora.core.models import AuditEvent

    brand_a, brand_b = two_brands
    client = login(make_user("max", {brand_a: ["provisioning.view", "provisioning.change"]}), brand_a)
    text = sequencing.DEFAULT_FILE.read_text()
    checked = client.post("/provisioning/sequencing/", {"text": text, "action": "check", "source_name": "d.yaml"})
    html = checked.content.decode()
    assert 'data-applied="false"' in html and "delete" in html and "activate.brand_a_special" in html
    assert 'data-testid="apply-checked"' in html
    assert Sequencing.objects.get(brand=brand_a).version == 1
    applied = client.post("/provisioning/sequencing/", {"text": text, "action": "apply", "source_name": "d.yaml"})
    assert 'data-applied="true"' in applied.content.decode()
    row = Sequencing.objects.get(brand=brand_a)
    assert (row.version, row.document, row.source) == (2, sequencing.default_document(), "d.yaml")
    event = AuditEvent.objects.filter(object_type="provisioning.sequencing", brand=brand_a).latest("at")
    assert event.actor_label and "d.yaml" in event.message
    assert not Sequencing.objects.filter(brand=brand_b).exists()


def test_a_bad_file_lists_every_fault_and_stores_nothing(make_user, two_brands):
    brand_a, _ = two_brands
    client = login(make_user("max", {brand_a: ["provisioning.view", "provisioning.change"]}), brand_a)
    bad = SECRET_STEP.replace("after: [create_subscriber]", "after: [brand_a_special]") + "  reboot:\n    - x\n"
    page = client.post("/provisioning/sequencing/", {"text": bad, "action": "apply"})
    html = page.content.decode()
    assert 'data-testid="check-errors"' in html
    assert "operations.reboot (line 12): unknown operation" in html
    assert "operations.activate[1].after[0] (line 11): &#x27;brand_a_special&#x27; cannot come after itself" in html
    assert Sequencing.objects.get(brand=brand_a).version == 1
    empty = client.post("/provisioning/sequencing/", {"text": "", "action": "check"})
    assert "Choose a file or paste its text." in empty.content.decode()


def test_a_sequenced_request_shows_its_step_in_the_log_and_on_its_page(make_user, shop, ann, system):
    from telora.customers import services as s
    from telora.provisioning.sequencing_services import queue_operation

    configure(shop, system)
    apply_sequencing(shop, sequencing.DEFAULT_FILE.read_text(), actor=system, at=clock.now())
    line = s.create_subscription(ann, actor=system, at=clock.now(), billing_account=ann.accounts.get(),
                                 service_type="mobile_postpaid", plan="MOB_POST_10GB")
    steps = queue_operation(shop, line, "activate", key="op:1", payload={"msisdn": line.identifier}, actor=system,
                            at=clock.now())
    client = login(make_user("pia", {shop: ["provisioning.view"]}), shop)
    assert "(enable_data)" in client.get("/provisioning/").content.decode()
    page = client.get(f"/provisioning/{steps[1].pk}/").content.decode()
    assert "<code>enable_data</code> (number 2 of its sequence" in page
