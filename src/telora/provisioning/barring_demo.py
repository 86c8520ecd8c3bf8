"""Demo barring: in each demo brand a prepaid line runs out of balance and is barred, then is topped up and
unbarred, through the real path: a pre-rated (OCS) usage file is rated, the batch commits the zero balance
and its `balance.zero` event, the barring consumer bars the line (a `bar` request at the brand's manual
target, done by hand at the network desk), a top-up emits `balance.topped_up` and the consumer unbars it.

Appended to `telora.core.demo.DEMO_LOADERS` after the provisioning demo (which gives each brand its
target). The consumer is placed after the demo's history first (`skip_to_end`): a year of balance events
is not replayed. Loading twice changes nothing (a brand with a line bar already is left alone).
A brand that has since moved to its host operator's API (Nordlink: its `network` target is netsim's) lived
the story at its manual history target (`desk`), before the move: the story's requests go there.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor

SOURCE = "demo-ocs"
HEADER = "record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"


def load_barring_demo(actor: Actor, report) -> None:
    from telora.core.demo import DEMO_BRANDS
    from telora.customers.models import Subscription
    from telora.events.services.dispatch import skip_to_end
    from telora.provisioning import barring, services
    from telora.provisioning.models import LineBar

    skip_to_end(barring.CONSUMER)
    for spec in DEMO_BRANDS:
        brand = Brand.objects.filter(code=spec["code"]).first()
        if brand is None or services.target_for(brand) is None or LineBar.objects.filter(brand=brand).exists():
            continue
        line = (Subscription.objects.filter(brand=brand, service_type="mobile_prepaid", status="active")
                .exclude(identifier="").order_by("id").first())
        if line is None:
            continue
        report.step(f"{brand.code}: barring (a prepaid line runs out, is barred, is topped up)", 4)
        with _at_the_desk(brand):
            _story(brand, line, actor, report)
        report.note(f"{brand.code}: 1 barring story: line {line.identifier} ran out, was barred, was topped up and "
                    "unbarred")


def _at_the_desk(brand):
    """For the story only, a brand whose `network` target is automatic bars at its manual history target."""
    import contextlib

    from telora.provisioning import services
    from telora.provisioning.models import BarringSettings, NetworkTarget

    network = services.target_for(brand)
    desk = NetworkTarget.objects.filter(brand=brand, adapter="manual").exclude(pk=network.pk).order_by("id").first()
    if network.adapter == "manual" or desk is None:
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def moved():
        row = BarringSettings.objects.filter(brand=brand).first()
        kept = row.target_code if row else None
        row = row or BarringSettings(brand=brand, updated_at=clock.now())
        row.target_code = desk.code
        row.save()
        try:
            yield
        finally:
            if kept is None:
                row.delete()
            else:
                row.target_code = kept
                row.save(update_fields=["target_code"])

    return moved()


def _story(brand, line, actor, report) -> None:
    from telora.events.services.dispatch import dispatch
    from telora.provisioning import barring, services
    from telora.provisioning.models import LineBar
    from telora.rating.models import UsageSource
    from telora.rating.services import import_usage_file, rate_pending
    from telora.rating.services.balances import balance_of, top_up
    from telora.rating.services.sources import create_source

    now = clock.now()
    if not UsageSource.objects.filter(brand=brand, code=SOURCE).exists():
        from django.conf import settings

        create_source(brand, actor=actor, at=now, code=SOURCE, format="csv", inbox=str(settings.VAR_DIR / "demo-ocs"),
                      pre_rated=True, enabled=False)
    if balance_of(line) <= 0:  # a balance that ran out before: the customer's last voucher first
        top_up(line, Decimal("5"), actor=actor, at=now - dt.timedelta(days=3), reference="demo: voucher")
    spent = balance_of(line) + Decimal("0.85")  # the call goes 0.85 below zero
    start = now - dt.timedelta(days=2, hours=3)
    record = f"demo-ocs-{line.pk},voice,{line.identifier},4512345678,{start.isoformat()},1260,,,,{spent}\n"
    import_usage_file(brand, (HEADER + record).encode(), format="csv", source=SOURCE, actor=actor, at=now,
                      name=f"demo-ocs-{line.pk}.csv")
    rate_pending(brand)
    report.advance()
    dispatch(barring.CONSUMER)  # what the worker does after the batch commits
    bar = LineBar.objects.filter(subscription=line, reason="balance").first()
    report.advance()
    if bar is not None and bar.bar_request is not None:
        services.complete_by_hand(bar.bar_request, reference=f"HOST-BAR-{line.pk:06d}", actor=actor,
                                  at=clock.now())
    top_up(line, Decimal("20"), actor=actor, at=clock.now(), reference="demo: voucher after the bar")
    dispatch(barring.CONSUMER)
    report.advance()
    if bar is not None:
        bar.refresh_from_db()
        if bar.end_request is not None:
            services.complete_by_hand(bar.end_request, reference=f"HOST-UNBAR-{line.pk:06d}", actor=actor,
                                      at=clock.now())
    report.advance()


def register() -> None:
    from telora.core.demo import DEMO_LOADERS

    if load_barring_demo not in DEMO_LOADERS:
        DEMO_LOADERS.append(load_barring_demo)
