"""Demo provisioning: each demo brand reaches its host operator through the `manual` target (a person at
the network desk does each request at the operator's portal, as before automation), and the provisioning
log has the past week's work to show at the first login: the newest mobile lines created at the host
operator and recorded done by hand, a suspended line barred, and today's newest line still waiting in the
manual queue.

Appended to `telora.core.demo.DEMO_LOADERS` after the customers demo (it reads its lines). Loading twice
changes nothing: the requests' idempotency keys are the lines' own.
"""

from __future__ import annotations

import datetime as dt

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor

DONE = 5  # the newest mobile lines whose creation at the host operator is recorded done by hand


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
        target = services.target_for(brand) or services.configure_target(
            brand, adapter="manual", name="Host operator (network desk)", actor=actor, at=now)
        mobile = (Subscription.objects.filter(brand=brand, service_type__startswith="mobile")
                  .select_related("sim").order_by("-activated_at", "-id"))
        lines = list(mobile.filter(status="active")[:DONE + 1])
        work = [("create", line, n) for n, line in enumerate(lines)]
        barred = mobile.filter(status="suspended").first()
        if barred is not None:
            work.append(("bar", barred, 2))
        report.step(f"{brand.code}: provisioning log", len(work))
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
        report.note(f"{brand.code}: {len(work)} provisioning requests at the manual host-operator target")


def register() -> None:
    from telora.core.demo import DEMO_LOADERS, DEMO_ROLES

    back_office = DEMO_ROLES.get("Back office")  # the orders demo's desk workers also work the manual queue
    if back_office is not None:
        back_office.extend(p for p in ("provisioning.view", "provisioning.work") if p not in back_office)

    if load_provisioning_demo not in DEMO_LOADERS:
        DEMO_LOADERS.append(load_provisioning_demo)

    from telora.provisioning.sequencing_demo import register as register_sequencing

    register_sequencing()  # after the targets exist
