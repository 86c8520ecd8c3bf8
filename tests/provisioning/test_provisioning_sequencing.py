"""Sequencing as configuration: the YAML read, checked (every fault named with its path and line) and
written back unchanged; an order operation expanded by a line's services (from the sequencing's service
types and the catalogue's bundles and attributes); the CLI's apply (dry run first) and export; and the
requests one operation becomes, in order, keyed per step."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from provisioning_helpers import configure

from telora.core import clock
from telora.provisioning import sequencing
from telora.provisioning.models import ProvisioningRequest, Sequencing
from telora.provisioning.sequencing import SequencingError
from telora.provisioning.sequencing_services import apply_sequencing, export_sequencing, plan, queue_operation

SMALL = """\
target: network
operations:
  activate:
    - step: create_subscriber
      do: create
    - step: enable_data
      do: change_services
      services: {data: true}
      when: [data]
      after: [create_subscriber]
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(SequencingError) as caught:
        sequencing.load_text(text)
    return caught.value.lines()


# --- the document ----------------------------------------------------------------------------------------

def test_the_default_sequencing_round_trips_through_yaml_unchanged():
    document = sequencing.default_document()
    text = sequencing.to_yaml(document)
    assert sequencing.load_text(text) == document
    assert sequencing.to_yaml(sequencing.load_text(text)) == text  # stable byte for byte
    assert set(document["operations"]) == set(sequencing.ORDER_OPERATIONS)
    assert sequencing.diff(document, sequencing.load_text(text)) == []


def test_an_unknown_operation_is_named_with_its_line():
    text = SMALL + "  reactivate:\n    - {step: x, do: create}\n"
    [line] = errors_of(text)
    assert line.startswith("operations.reactivate (line 11): unknown operation")
    assert "activate, change_services, suspend" in line


def test_a_circle_of_dependencies_is_refused_naming_it():
    text = """\
operations:
  terminate:
    - {step: remove_data, do: change_services, services: {data: false}, after: [delete_subscriber]}
    - {step: delete_subscriber, do: delete, after: [remove_data]}
"""
    [line] = errors_of(text)
    assert line.startswith("operations.terminate (line 2): the steps wait for each other in a circle")
    assert "remove_data -> delete_subscriber -> remove_data" in line


def test_an_unknown_step_in_after_and_other_faults_are_all_listed():
    text = """\
target: network
colour: blue
operations:
  activate:
    - step: create_subscriber
      do: create
      services: {data: true}
    - step: create_subscriber
      do: provision
      after: [make_sim]
      when: [Data]
"""
    lines = errors_of(text)
    assert "colour (line 2): unknown key (known: target, service_types, operations)" in lines
    assert any(x.startswith("operations.activate[0].services (line 7): only a change_services step") for x in lines)
    assert any(x.startswith("operations.activate[1].step (line 8): 'create_subscriber' is the name of an earlier")
               for x in lines)
    assert any(x.startswith("operations.activate[1].do (line 9): required: the network operation") for x in lines)
    assert any(x.startswith("operations.activate[1].after[0]") and "unknown step 'make_sim'" in x for x in lines)
    assert any(x.startswith("operations.activate[1].when[0]") and "a service name" in x for x in lines)
    assert len(lines) == 6


def test_not_yaml_and_not_a_mapping_are_clear_errors():
    assert errors_of("operations: [a\n")[0].startswith("not valid YAML: line 2")
    assert errors_of("- a\n- b\n") == ["expected a mapping with `operations`"]
    assert errors_of("target: network\n") == ["operations: required: a mapping of order operations to their steps"]


def test_bounds_on_steps_and_services():
    many = "operations:\n  activate:\n" + "".join(f"    - {{step: s{n}, do: create}}\n" for n in range(31))
    assert "at most 30 steps" in errors_of(many)[0]
    text = SMALL.replace("services: {data: true}", "services: {data: yes}")
    assert "true (enable) or false (remove)" in errors_of(text)[0]


# --- expansion -------------------------------------------------------------------------------------------

def names(steps):
    return [s.name for s in steps]


def test_expansion_follows_the_lines_services():
    document = sequencing.default_document()
    plain = sequencing.line_services(document, "mobile_postpaid", [])
    assert plain == {"voice", "sms", "voicemail"}
    assert names(sequencing.expand(document, "activate", plain)) == ["create_subscriber", "set_voicemail"]
    full = plain | {"data", "roaming"}
    steps = sequencing.expand(document, "activate", full)
    assert names(steps) == ["create_subscriber", "enable_data", "enable_roaming", "set_voicemail"]
    assert [(s.operation, s.services) for s in steps[1:3]] == [("change_services", {"data": True}),
                                                                ("change_services", {"roaming": True})]
    assert names(sequencing.expand(document, "terminate", full)) == [
        "remove_roaming", "remove_data", "remove_voicemail", "delete_subscriber"]
    # change_services: what the line has is enabled, what it lacks removed (roaming before data)
    assert names(sequencing.expand(document, "change_services", plain)) == [
        "remove_roaming", "remove_international", "remove_data", "set_voicemail"]


def test_a_step_listed_before_what_it_waits_for_runs_after_it():
    document = sequencing.load_text("""\
operations:
  terminate:
    - {step: delete_subscriber, do: delete, after: [remove_data]}
    - {step: remove_data, do: change_services, services: {data: false}, when: [data]}
""")
    assert names(sequencing.expand(document, "terminate", {"data"})) == ["remove_data", "delete_subscriber"]
    # a step left out is dropped from the others' `after`
    [only] = sequencing.expand(document, "terminate", set())
    assert (only.name, only.after) == ("delete_subscriber", ())


def test_without_a_sequencing_an_operation_is_its_one_request():
    for operation, network in sequencing.SINGLE_STEP.items():
        [step] = sequencing.expand(None, operation, {"data"})
        assert step.operation == network
    with pytest.raises(ValueError, match="unknown order operation"):
        sequencing.expand(None, "reactivate", set())


# --- stored, applied, exported ---------------------------------------------------------------------------



@pytest.fixture
def line(shop, ann, system):
    from telora.customers import services as s

    return s.create_subscription(ann, actor=system, at=clock.now(), billing_account=ann.accounts.get(),
                                 service_type="mobile_postpaid", plan="MOB_POST_10GB", addons=["ROAM_EU_5GB"])


@pytest.mark.django_db
def test_apply_is_a_dry_run_first_then_stores_a_version_and_audits(shop, system):
    from telora.core.models import AuditEvent

    configure(shop, system)
    checked = apply_sequencing(shop, SMALL, actor=system, at=clock.now(), dry_run=True, source="small.yaml")
    assert (checked.applied, checked.lines()) == (False, [
        "create activate.create_subscriber: create",
        "create activate.enable_data: change services; enable data; for lines with data; after create_subscriber"])
    assert not Sequencing.objects.exists()
    applied = apply_sequencing(shop, SMALL, actor=system, at=clock.now(), source="small.yaml")
    assert (applied.applied, applied.version) == (True, 1)
    again = apply_sequencing(shop, SMALL, actor=system, at=clock.now(), source="small.yaml")
    assert (again.applied, again.changes, again.version) == (False, [], 1)
    event = AuditEvent.objects.get(object_type="provisioning.sequencing")
    assert event.brand_id == shop.pk and "create 2" in event.message
    changed = apply_sequencing(shop, SMALL.replace("when: [data]", "when: [data, roaming]"), actor=system,
                               at=clock.now())
    assert changed.version == 2 and changed.lines() == [
        "update activate.enable_data: change services; enable data; for lines with data and roaming; "
        "after create_subscriber"]


@pytest.mark.django_db
def test_apply_needs_the_files_target_in_the_brand(shop, system):
    with pytest.raises(SequencingError, match="has no network target 'network'"):
        apply_sequencing(shop, SMALL, actor=system, at=clock.now())


@pytest.mark.django_db
def test_the_cli_applies_with_a_dry_run_and_exports(shop, system, tmp_path):
    configure(shop, system)
    path = tmp_path / "seq.yaml"
    path.write_text(sequencing.DEFAULT_FILE.read_text())
    out = io.StringIO()
    call_command("provisioning", "sequencing", "apply", str(path), "--brand", shop.code, "--dry-run", stdout=out)
    assert "dry run" in out.getvalue() and "create activate.create_subscriber" in out.getvalue()
    assert not Sequencing.objects.exists()
    call_command("provisioning", "sequencing", "apply", str(path), "--brand", shop.code, stdout=io.StringIO())
    assert Sequencing.objects.get().document == sequencing.default_document()
    exported = tmp_path / "out.yaml"
    call_command("provisioning", "sequencing", "export", "--brand", shop.code, "-o", str(exported),
                 stderr=io.StringIO())
    assert sequencing.load_text(exported.read_text()) == sequencing.default_document()
    out = io.StringIO()
    call_command("provisioning", "sequencing", "apply", str(exported), "--brand", shop.code, stdout=out)
    assert "no changes" in out.getvalue()


@pytest.mark.django_db
def test_the_cli_refuses_a_bad_file_naming_every_fault_and_stores_nothing(shop, system, tmp_path):
    configure(shop, system)
    path = tmp_path / "bad.yaml"
    path.write_text(SMALL.replace("after: [create_subscriber]", "after: [enable_data]").replace("do: create",
                                                                                              "do: creat"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 errors; nothing applied"):
        call_command("provisioning", "sequencing", "apply", str(path), "--brand", shop.code, stderr=err)
    assert "operations.activate[0].do (line 5)" in err.getvalue()
    assert "operations.activate[1].after[0] (line 10): 'enable_data' cannot come after itself" in err.getvalue()
    assert not Sequencing.objects.exists()
    with pytest.raises(CommandError, match="--brand: unknown brand 'nope'"):
        call_command("provisioning", "sequencing", "export", "--brand", "nope")


@pytest.mark.django_db
def test_the_lines_services_come_from_the_catalogue_and_the_service_type(shop, system, line):
    from telora.catalog.models import Product

    configure(shop, system)
    apply_sequencing(shop, sequencing.DEFAULT_FILE.read_text(), actor=system, at=clock.now())
    # MOB_POST_10GB's bundles give voice, sms and data; ROAM_EU_5GB's data only, until the catalogue
    # names its network service
    assert names(plan(shop, line, "activate")) == ["create_subscriber", "enable_data", "set_voicemail"]
    Product.objects.filter(brand=shop, code="ROAM_EU_5GB").update(attributes={"network_services": ["roaming"]})
    assert names(plan(shop, line, "activate")) == ["create_subscriber", "enable_data", "enable_roaming",
                                                   "set_voicemail"]
    assert export_sequencing(shop) == sequencing.to_yaml(sequencing.default_document())


@pytest.mark.django_db
def test_an_operation_becomes_its_ordered_requests_keyed_per_step_once(shop, system, line):
    configure(shop, system)
    apply_sequencing(shop, sequencing.DEFAULT_FILE.read_text(), actor=system, at=clock.now())
    payload = {"msisdn": line.identifier}
    made = queue_operation(shop, line, "activate", key="op:1", payload=payload, actor=system, at=clock.now())
    assert [(r.position, r.step, r.operation, r.idempotency_key) for r in made] == [
        (0, "create_subscriber", "create", "op:1:create_subscriber"),
        (1, "enable_data", "change_services", "op:1:enable_data"),
        (2, "set_voicemail", "change_services", "op:1:set_voicemail")]
    assert made[1].payload == {"msisdn": line.identifier, "services": {"data": True}}
    assert {r.group_key for r in made} == {"op:1"}
    again = queue_operation(shop, line, "activate", key="op:1", payload=payload, actor=system, at=clock.now())
    assert [r.pk for r in again] == [r.pk for r in made]
    assert ProvisioningRequest.objects.count() == 3


@pytest.mark.django_db
def test_without_a_sequencing_the_operation_is_the_one_request_with_the_key_as_it_was(shop, system, line):
    configure(shop, system)
    [only] = queue_operation(shop, line, "suspend", key="flow:9:bar", payload={"msisdn": line.identifier},
                             actor=system, at=clock.now())
    assert (only.operation, only.idempotency_key, only.group_key) == ("bar", "flow:9:bar", "")


def test_the_demo_loader_comes_after_the_targets_and_applies_the_default():
    from telora.core.demo import DEMO_LOADERS
    from telora.provisioning import demo
    from telora.provisioning.sequencing_demo import load_sequencing_demo

    assert DEMO_LOADERS.index(load_sequencing_demo) > DEMO_LOADERS.index(demo.load_provisioning_demo)


@pytest.mark.django_db
def test_the_demo_sequencing_for_the_demo_brands(monkeypatch, system):
    from telora.core import demo as core_demo
    from telora.core.models import Brand
    from telora.customers import demo as customers_demo
    from telora.provisioning import demo
    from telora.provisioning.sequencing_demo import load_sequencing_demo

    monkeypatch.setattr(core_demo, "DEMO_LOADERS", [customers_demo.load_customers_demo, demo.load_provisioning_demo,
                                                    load_sequencing_demo])
    monkeypatch.setattr(customers_demo, "CUSTOMERS_PER_BRAND", 4)
    core_demo.load_demo()
    rows = Sequencing.objects.filter(brand__in=Brand.objects.filter(code__in=("nordlink", "bluewave")))
    assert rows.count() == 2
    assert all(row.document == sequencing.default_document() and row.version == 1 for row in rows)
    load_sequencing_demo(system, core_demo.DemoReport())
    assert [row.version for row in rows] == [1, 1]


@pytest.mark.django_db
def test_a_cancelled_order_cancels_the_unsent_steps_and_terminates_what_the_network_did(shop, system, line):
    from telora.provisioning import services
    from telora.provisioning.adapters import Outcome
    from telora.provisioning.sequencing_services import undo_group

    configure(shop, system)
    apply_sequencing(shop, sequencing.DEFAULT_FILE.read_text(), actor=system, at=clock.now())
    made = queue_operation(shop, line, "activate", key="op:1", payload={"msisdn": line.identifier}, actor=system,
                           at=clock.now())
    services.record_outcome(made[0].pk, Outcome("completed", correlation_id="NS-1"), at=clock.now())
    undone = undo_group(made[0], actor=system, at=clock.now())
    assert undone["cancelled"] == [r.pk for r in made[1:]]
    assert [r.state for r in ProvisioningRequest.objects.filter(group_key="op:1").order_by("position")] == [
        "completed", "cancelled", "cancelled"]
    back = ProvisioningRequest.objects.filter(group_key="op:1:undo").order_by("position")
    assert undone["undo_request"] == back[0].pk
    assert [(r.step, r.operation) for r in back] == [("remove_data", "change_services"),
                                                     ("remove_voicemail", "change_services"),
                                                     ("delete_subscriber", "delete")]


@pytest.mark.django_db
def test_a_line_waits_for_its_earlier_open_request_and_others_do_not(shop, system, line, ann):
    """Without the network: the claim itself skips a request whose line has an earlier open one."""
    from telora.customers import services as s
    from telora.provisioning import services

    configure(shop, system, url="http://127.0.0.1:9/")  # nothing listens: every try is transient
    apply_sequencing(shop, sequencing.DEFAULT_FILE.read_text(), actor=system, at=clock.now())
    other = s.create_subscription(ann, actor=system, at=clock.now(), billing_account=ann.accounts.get(),
                                  service_type="mobile_postpaid", plan="MOB_POST_BASIC")
    first = queue_operation(shop, line, "activate", key="a", payload={"msisdn": line.identifier}, actor=system,
                            at=clock.now())
    [bar] = queue_operation(shop, line, "suspend", key="b", payload={"msisdn": line.identifier}, actor=system,
                            at=clock.now())
    elsewhere = queue_operation(shop, other, "activate", key="c", payload={"msisdn": other.identifier},
                                actor=system, at=clock.now())[0]
    assert services.send_due(at=clock.now()) == {"transient": 2}
    tried = {r.pk: r.tries for r in ProvisioningRequest.objects.all()}
    assert tried[first[0].pk] == 1 and tried[elsewhere.pk] == 1
    assert tried[bar.pk] == 0 and tried[first[1].pk] == 0
    assert services.send_request(bar.pk, at=clock.now()) == ""  # the one-request job waits too
