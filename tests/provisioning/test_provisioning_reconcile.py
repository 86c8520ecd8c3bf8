"""Reconciliation of a brand's lines against the simulator (a separate process, its list read page by page)
and against an operator's export CSV: every kind of difference found, nothing changed on either side;
the command line and the target page's section (rights, another brand's target 404)."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from provisioning_helpers import API_KEY, configure

from gui_helpers import login
from telora.core import clock
from telora.customers import services as customer_services
from telora.provisioning import services
from telora.provisioning.models import NetworkTarget, ProvisioningRequest
from telora.provisioning.reconcile import ReconcileError, export_pages, reconcile, target_pages
from telora.provisioning.tasks import payload_for

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("not reached in time")


def post(netsim, operation, payload, key):
    body = json.dumps({"idempotency_key": key, "operation": operation, "payload": payload}).encode()
    request = urllib.request.Request(netsim.url + "/v1/requests", data=body, method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status


@pytest.fixture
def target(shop, system, netsim, live_server):
    made = configure(shop, system, url=netsim.url)
    NetworkTarget.objects.filter(pk=made.pk).update(
        callback_url=live_server.url + reverse("provisioning:callback", args=[made.pk]))
    made.refresh_from_db()
    return made


@pytest.fixture
def lines(ann, system, target, netsim):
    """Three live lines: the first provisioned right, the second suspended at Telora (not barred at the
    network) and with another SIM there, the third never provisioned; and a subscriber Telora does not have."""
    made = [customer_services.create_subscription(ann, actor=system, at=clock.now(),
                                                  billing_account=ann.accounts.get(), service_type="mobile_postpaid",
                                                  plan="MOB_POST_BASIC") for _ in range(3)]
    for line in made[:2]:
        services.create_request(ann.brand, operation="create", payload=payload_for(line, "create"), subscription=line,
                                idempotency_key=f"create-{line.pk}", actor=system, at=clock.now())
    assert services.send_due(at=clock.now()) == {"accepted": 2}
    wait_for(lambda: ProvisioningRequest.objects.filter(state="completed").count() == 2)
    customer_services.suspend_subscription(made[1], actor=system, at=clock.now(), reason="unpaid")
    post(netsim, "sim_swap", {"msisdn": made[1].identifier, "iccid": "8931440400999999999", "imsi": made[1].sim.imsi},
         "outside-swap")
    post(netsim, "create", {"msisdn": "31699999999", "iccid": "8931000000000000001"}, "outside-create")
    return made


def test_reconcile_lists_every_kind_of_difference_against_the_simulator_page_by_page(shop, lines, target, netsim):
    before = netsim.subscribers()
    seen = []
    report = reconcile(shop, target=target, pages=target_pages(target, page_size=2),
                       progress=lambda done, total: seen.append((done, total)))
    found = {(d.kind, d.msisdn) for d in report.differences}
    first, second, third = (line.identifier for line in lines)
    assert found == {("state_mismatch", second), ("sim_mismatch", second), ("missing_at_network", third),
                     ("unknown_at_telora", "31699999999")}
    assert (report.telora_lines, report.network_lines) == (3, 3)
    sim = next(d for d in report.differences if d.kind == "sim_mismatch")
    assert "8931440400999999999" in sim.detail and sim.subscription == lines[1].pk
    assert seen[-1][0] == seen[-1][1] == 6  # both sides counted
    assert len(seen) >= 3  # pages of two, then Telora's side
    assert netsim.subscribers() == before  # read-only at the network
    assert ProvisioningRequest.objects.count() == 2  # and at Telora: nothing queued to "fix" it


def test_a_line_with_a_request_on_its_way_is_marked_pending(shop, lines, target, system):
    services.create_request(shop, operation="create", payload=payload_for(lines[2], "create"), subscription=lines[2],
                            idempotency_key="on-its-way", actor=system, at=clock.now())
    report = reconcile(shop, target=target)
    missing = next(d for d in report.differences if d.kind == "missing_at_network")
    assert missing.pending and not any(d.pending for d in report.differences if d is not missing)


def test_an_operator_export_is_compared_and_services_too(shop, lines, target, tmp_path):
    first, second, third = lines
    first_services = ";".join(ProvisioningRequest.objects.get(subscription=first).payload["services"])
    export = tmp_path / "export.csv"
    export.write_text("MSISDN,imsi,iccid,barred,services\n"
                      f"{first.identifier},{first.sim.imsi},{first.sim.iccid},no,{first_services};VOICEMAIL\n"
                      f"{second.identifier},{second.sim.imsi},{second.sim.iccid},yes,\n")
    out = tmp_path / "differences.csv"
    call_command("provisioning", "reconcile", "--brand", shop.code, "--export", str(export), "--csv", str(out))
    rows = out.read_text().splitlines()
    assert rows[0].startswith("kind,msisdn,detail")
    kinds = sorted(row.split(",")[0] for row in rows[1:])
    assert kinds == ["missing_at_network", "services_mismatch"]
    assert "only at the network: VOICEMAIL" in out.read_text()


def test_a_bad_export_names_the_line_and_the_field(shop, target, tmp_path):
    with pytest.raises(ReconcileError, match="line 3: barred"):
        list(export_pages(["msisdn,barred", "316100,no", "316101,perhaps"]))
    with pytest.raises(ReconcileError, match="msisdn column"):
        list(export_pages(["number,barred", "316100,no"]))
    with pytest.raises(CommandError, match="no file"):
        call_command("provisioning", "reconcile", "--brand", shop.code, "--export", str(tmp_path / "none.csv"))
    with pytest.raises(CommandError, match="brand"):
        call_command("provisioning", "reconcile", "--brand", "nope")


def test_the_target_page_runs_a_reconciliation_and_shows_its_differences(make_user, shop, brand_b, lines, target,
                                                                        system):
    from telora.core.models import Job
    from telora.core.services.jobs import execute

    viewer = login(make_user("vic", {shop: ["provisioning.view"]}), shop)
    page = viewer.get(reverse("provisioning:target", args=[target.code]))
    assert page.status_code == 403  # the target's edit page needs provisioning.change
    worker = login(make_user("wes", {shop: ["provisioning.view", "provisioning.change", "provisioning.work"]}), shop)
    answer = worker.post(reverse("provisioning:reconcile", args=[target.code]))
    assert answer.status_code == 302
    job = Job.objects.get(kind="provisioning.reconcile")
    execute(job.pk)
    page = worker.get(reverse("provisioning:target", args=[target.code]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "missing_at_network" in text.replace(" ", "_") or "missing at network" in text
    assert lines[2].identifier in text
    assert viewer.post(reverse("provisioning:reconcile", args=[target.code])).status_code == 403
    shown = viewer.get(reverse("provisioning:reconcile", args=[target.code]))  # the results: provisioning.view
    assert shown.status_code == 200 and lines[2].identifier in shown.content.decode()
    assert worker.post(reverse("provisioning:reconcile", args=["nope"])).status_code == 404
    # brand B's user sees brand B's target under the same code, never brand A's results
    configure(brand_b, system, url="http://127.0.0.1:9/")
    bea = login(make_user("bea", {brand_b: ["provisioning.view", "provisioning.work"]}), brand_b)
    theirs = bea.get(reverse("provisioning:reconcile", args=["network"]))
    assert theirs.status_code == 200 and lines[2].identifier not in theirs.content.decode()
    assert "Not compared yet" in theirs.content.decode()
