"""Demo provisioning. The provisioning log of each demo brand has the past week's work to show at the first
login, done at the host operator's portal by a person at the network desk (the `manual` adapter): the
newest mobile lines created and recorded done by hand, a suspended line barred, and today's newest line
still waiting in the manual queue.

Nordlink Mobile (an MVNO on its host operator's platform) has moved to the host operator's API since:
its `network` target speaks `mvne_json` to `telora netsim`, which `telora demo` runs beside the server
(a DEMO_COMPANION), and its sign-ups run the automatic flow, so a new mobile sign-up is provisioned on
the simulator and its requests and answers show on the customer's Provisioning tab. Its history stays at
the desk target it was done at (`desk`). Bluewave Telecom keeps the manual desk. If netsim does not
answer, the requests wait queued and are tried again (up to 30 tries, the backoff capped at an hour).

Appended to `telora.core.demo.DEMO_LOADERS` after the customers and orders demos (it reads their lines
and flows). Loading twice changes nothing: the requests' idempotency keys are the lines' own.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor

DONE = 5  # the newest mobile lines whose creation at the host operator is recorded done by hand
AUTOMATIC_BRAND = "nordlink"  # provisions through the host operator's API (netsim) since the switch
NETSIM_PORT = 8790
# demo data only: the key and callback secret the demo's netsim and Nordlink's target share
NETSIM_API_KEY, NETSIM_SECRET = "demo-netsim-key", "demo-netsim-callback-secret"


def netsim_url() -> str:
    """Where the demo's netsim listens (`telora demo` says so through the environment)."""
    return os.environ.get("TELORA_DEMO_NETSIM_URL", f"http://127.0.0.1:{NETSIM_PORT}")


def site_url() -> str:
    """The demo server's own address, for the callbacks netsim sends it."""
    return os.environ.get("TELORA_DEMO_URL", "http://127.0.0.1:8000").rstrip("/")


def load_provisioning_demo(actor: Actor, report) -> None:
    from telora.core.demo import DEMO_BRANDS
    from telora.customers.models import Subscription
    from telora.provisioning import services
    from telora.provisioning.models import ProvisioningRequest
    from telora.provisioning.tasks import payload_for

    now = clock.now()
    for spec in DEMO_BRANDS:
        brand = Brand.objects.filter(code=spec["code"]).first()
        if brand is None:
            continue
        automatic = spec["code"] == AUTOMATIC_BRAND
        desk = "desk" if automatic else "network"  # where the past week's work was done by hand
        target = services.target_for(brand, desk) or services.configure_target(
            brand, code=desk, adapter="manual", name="Host operator (network desk)", actor=actor, at=now)
        mobile = (Subscription.objects.filter(brand=brand, service_type__startswith="mobile")
                  .select_related("sim").order_by("-activated_at", "-id"))
        lines = list(mobile.filter(status="active")[:DONE + 1])
        work = [("create", line, n) for n, line in enumerate(lines)]
        barred = mobile.filter(status="suspended").first()
        if barred is not None:
            work.append(("bar", barred, 2))
        report.step(f"{brand.code}: provisioning log", len(work) + automatic)
        for operation, line, days_ago in work:
            report.advance()
            key = f"demo:{operation}:{line.pk}"
            if ProvisioningRequest.objects.filter(idempotency_key=key).exists():
                continue
            at = now - dt.timedelta(days=days_ago, hours=1)
            request = services.create_request(brand, operation=operation, payload=payload_for(line, operation),
                                              idempotency_key=key, target=target, subscription=line,
                                              actor=actor, at=at)
            if days_ago:  # today's newest line still waits for the network desk
                services.complete_by_hand(request, reference=f"HOST-{line.pk:06d}", actor=actor,
                                          at=at + dt.timedelta(minutes=40))
        told = f"{brand.code}: {len(work)} provisioning requests done at the host operator's desk"
        if automatic:
            report.advance()
            told += "; " + connect_to_netsim(brand, actor=actor, at=now)
        report.note(told)


def connect_to_netsim(brand, *, actor: Actor, at: dt.datetime) -> str:
    """The brand's `network` target at the demo's netsim (JSON, signed callbacks to the demo server) and its
    automatic sign-up flow; what was done, for the report. Changes nothing when already so."""
    from django.apps import apps
    from django.urls import reverse

    from telora.provisioning import services
    from telora.provisioning.flows import automatic_flows, install_automatic_flows

    url, target = netsim_url(), services.target_for(brand)
    if target is None or target.adapter != "mvne_json" or target.url != url:
        target = services.configure_target(
            brand, adapter="mvne_json", name="Host operator API (netsim)", url=url, timeout_seconds=10, max_tries=30,
            callback_url=target.callback_url if target else "",
            secrets={"api_key": NETSIM_API_KEY, "callback_secret": NETSIM_SECRET}, actor=actor, at=at)
    callback = site_url() + reverse("provisioning:callback", args=[target.pk])
    if target.callback_url != callback:
        target = services.configure_target(
            brand, adapter=target.adapter, name=target.name, url=target.url, callback_url=callback,
            timeout_seconds=target.timeout_seconds, max_tries=target.max_tries, actor=actor, at=at)
    said = f"sign-ups provisioned automatically at netsim ({url})"
    if not apps.is_installed("telora.workflows"):
        return said
    from telora.workflows.models import FlowDefinition

    keys = list(automatic_flows())
    if FlowDefinition.objects.filter(brand=brand, key__in=keys).exists():
        return said
    if not FlowDefinition.objects.filter(brand__isnull=True, key__in=keys).exists():
        return f"target at netsim ({url}); the automatic flows wait for the standard flows (orders demo)"
    install_automatic_flows(brand, actor=actor, at=at)
    return said


def netsim_companion(var_dir: Path):
    """`telora demo`'s network simulator (the host operator's provisioning API, JSON and SOAP), and the
    setting that points the demo loader at it."""
    from telora.core.demo import DemoCompanion, free_port

    port, folder = free_port(NETSIM_PORT), str(Path(var_dir) / "netsim")
    return DemoCompanion("Network simulator", ["netsim", "--port", str(port), "--dir", folder, "--api-key",
                                               NETSIM_API_KEY, "--secret", NETSIM_SECRET, "--latency", "1"], port,
                         f"the host operator's provisioning API (JSON /v1, SOAP /soap): Nordlink's sign-ups are "
                         f"provisioned on it (subscribers kept in {folder})",
                         env={"TELORA_DEMO_NETSIM_URL": f"http://127.0.0.1:{port}"})


def register() -> None:
    from telora.core.demo import DEMO_COMPANIONS, DEMO_LOADERS, DEMO_ROLES

    back_office = DEMO_ROLES.get("Back office")  # the orders demo's desk workers also work the manual queue
    if back_office is not None:
        back_office.extend(p for p in ("provisioning.view", "provisioning.work") if p not in back_office)

    if load_provisioning_demo not in DEMO_LOADERS:
        DEMO_LOADERS.append(load_provisioning_demo)
    if netsim_companion not in DEMO_COMPANIONS:
        DEMO_COMPANIONS.append(netsim_companion)

    from telora.provisioning.sequencing_demo import register as register_sequencing

    register_sequencing()  # after the targets exist
