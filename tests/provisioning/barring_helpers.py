"""Barring test helpers: a prepaid line in the shop, usage rated through the pipeline (a pre-rated OCS
source: the shop's numbers are Dutch, the catalogue Danish, and the OCS's charge is what matters here),
and the barring consumer run the way the dispatcher runs it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from telora.core import clock

HEADER = "record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"
SOURCE = "ocs"


def prepaid_line(customer, system, *, balance: str = "0"):
    from telora.customers import services as s
    from telora.rating.services.balances import top_up

    line = s.create_subscription(customer, actor=system, at=clock.now() - dt.timedelta(days=30),
                                 billing_account=customer.accounts.get(), service_type="mobile_prepaid",
                                 plan="MOB_PRE")
    if Decimal(balance) > 0:
        top_up(line, Decimal(balance), actor=system, at=clock.now(), reference="first top-up")
    return line


def rate_usage(line, system, *charges: str, start: dt.datetime | None = None):
    """One file of calls costing `charges` from the line, taken in and rated (one batch commits)."""
    from telora.rating.models import UsageSource
    from telora.rating.services import import_usage_file, rate_pending
    from telora.rating.services.sources import create_source

    brand = line.brand
    if not UsageSource.objects.filter(brand=brand, code=SOURCE).exists():
        create_source(brand, actor=system, at=clock.now(), code=SOURCE, format="csv", inbox="/tmp/ocs-inbox",
                      pre_rated=True)
    start = start or clock.now() - dt.timedelta(hours=1)
    rate_usage.n = getattr(rate_usage, "n", 0) + 1
    rows = "".join(
        f"ocs-{rate_usage.n}-{i},voice,{line.identifier},31201234567,"
        f"{(start + dt.timedelta(minutes=i)).isoformat()},60,,,NL,{charge}\n" for i, charge in enumerate(charges))
    import_usage_file(brand, (HEADER + rows).encode(), format="csv", source=SOURCE, actor=system, at=clock.now(),
                      name=f"ocs-{rate_usage.n}.csv")
    rate_pending(brand)


def consume() -> int:
    """The barring consumer's waiting events, handed over as the dispatcher does."""
    from telora.events.models import ConsumerPosition
    from telora.events.services.dispatch import dispatch
    from telora.provisioning.barring import CONSUMER

    handed = dispatch(CONSUMER)
    position = ConsumerPosition.objects.filter(name=CONSUMER).first()
    assert position is None or not position.last_error, position.last_error
    return handed
