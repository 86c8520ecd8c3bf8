"""Demo porting: each demo brand reaches the national clearing house through `telora portsim` (address
127.0.0.1:8791, which `make demo` does not start yet), and its Porting list shows a port-in completed on
its date last week, a port-in scheduled for a coming date, and a port-out a recipient asked for with the
wrong account number, rejected.

The clearing house's side of these past exchanges is recorded by the loader: the donor's acceptance is
entered as its callback would enter it, and the messages Telora sent are marked sent with a note. The port-in
flows run for real: the completed one was activated by its window timer on its date.

Appended to `telora.core.demo.DEMO_LOADERS` after the orders demo (its desks and published flows).
Loading twice changes nothing: a brand with porting requests keeps them.
"""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.db import transaction

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor

# per brand: our code, the donor of its port-ins, the numbers ported in, the recipient of its port-out
PEOPLE = {
    "nordlink": dict(code="NLK", donor="TLN", numbers=("+4530123456", "+4530123457"), recipient="TIA",
                     plan="MOB_POST_BASIC"),
    "bluewave": dict(code="BWV", donor="VOD", numbers=("+447400123456", "+447400123457"), recipient="EEL",
                     plan="MOB_POST_BASIC"),
}
SIM_URL, SIM_KEY, SIM_SECRET = "http://127.0.0.1:8791", "portsim-key", "portsim-secret"


def load_porting_demo(actor: Actor, report) -> None:
    from telora.core.demo import DEMO_BRANDS
    from telora.porting.models import PortingRequest

    if not apps.is_installed("telora.workflows"):
        return
    for spec in DEMO_BRANDS:
        brand = Brand.objects.filter(code=spec["code"]).first()
        people = PEOPLE.get(spec["code"])
        if brand is None or people is None:
            continue
        report.step(f"{brand.code}: porting requests", 3)
        if PortingRequest.objects.filter(brand=brand).exists():
            report.advance(3)
            continue
        made = port_brand(brand, people, actor, report)
        report.note(f"{brand.code}: {len(made)} porting requests (" + ", ".join(f"{r.direction} {r.state}" for r in made)
                    + ")")


def port_brand(brand: Brand, people: dict, actor: Actor, report) -> list:
    from telora.customers.models import Subscription
    from telora.porting import services
    from telora.porting.adapters import Received
    from telora.porting.models import ClearingHouse, PortingMessage, PortingRequest

    now = clock.now()
    house = services.configure_clearing_house(
        brand, name="National porting clearing house (simulator)", url=SIM_URL, operator_code=people["code"],
        answer_hours=24, secrets={"api_key": SIM_KEY, "callback_secret": SIM_SECRET}, actor=actor, at=now)
    ClearingHouse.objects.filter(pk=house.pk).update(callback_url=f"http://127.0.0.1:8000/porting/callback/{house.pk}/")
    lines = list(Subscription.objects.filter(brand=brand, status="active", service_type="mobile_postpaid")
                 .select_related("customer").order_by("-id")[:3])
    if len(lines) < 3:
        return []
    today = clock.localtime(now, brand).date()
    made = []
    # The past port-in's donor deadline must lie after today for its flow to wait for the answer (the engine's
    # timers run on today's clock): the loader widens the deadline while it places it.
    ClearingHouse.objects.filter(pk=house.pk).update(answer_hours=14 * 24)
    done = _port_in(brand, lines[0].customer, people, people["numbers"][0], at=now - dt.timedelta(days=9),
                    day=today - dt.timedelta(days=6), actor=actor)
    ClearingHouse.objects.filter(pk=house.pk).update(answer_hours=24)
    if done is not None:
        with transaction.atomic():  # the flow is told here, at the window, not when the answer is recorded
            services.record_answer(done, accepted=True, at=now - dt.timedelta(days=9, hours=-2),
                                   actor=Actor.system("porting"))
            done.refresh_from_db()
            services.notify_flow(done.pk, at=done.window_at)  # the window timer fires on the porting date
        made.append(done)
    report.advance()
    scheduled = _port_in(brand, lines[1].customer, people, people["numbers"][1], at=now - dt.timedelta(hours=2),
                         day=today + dt.timedelta(days=5), actor=actor)
    if scheduled is not None:
        services.record_answer(scheduled, accepted=True, at=now - dt.timedelta(hours=1), actor=Actor.system("porting"))
        services.notify_flow(scheduled.pk, at=now - dt.timedelta(hours=1))
        made.append(scheduled)
    report.advance()
    line = lines[2]
    refused = services.receive_port_out(house, Received(
        event="port_out_request", correlation_id=f"PX-DEMO-{brand.code}", number=line.identifier,
        donor=people["code"], recipient=people["recipient"], authorisation={"account_number": "WRONG-123"},
        requested_date=(today + dt.timedelta(days=3)).isoformat()), at=now - dt.timedelta(hours=3))
    made.append(refused)
    report.advance()
    PortingMessage.objects.filter(brand=brand, direction="out", state="pending").update(
        state="sent", next_try_at=None, error="",
        response_body='{"note": "recorded by the demo loader: portsim was not running"}')
    return [PortingRequest.objects.get(pk=r.pk) for r in made]


def _port_in(brand, customer, people, number, *, at, day, actor):
    from telora.orders.services import create_order
    from telora.porting.models import PortingRequest

    order = create_order(customer, actor=actor, at=at, order_type="port_in", channel="gui",
                         items=[{"product_offering": people["plan"], "characteristics": {
                             "number": number, "donor": people["donor"], "requested_date": day.isoformat(),
                             "account_number": f"{people['donor']}-{customer.pk:06d}"}}],
                         description=f"port-in of {number}")
    return PortingRequest.objects.filter(order=order).first()


def register() -> None:
    from telora.core.demo import DEMO_LOADERS, DEMO_ROLES

    back_office = DEMO_ROLES.get("Back office")
    if back_office is not None:
        back_office.extend(p for p in ("porting.view", "porting.change") if p not in back_office)
    if load_porting_demo not in DEMO_LOADERS:
        DEMO_LOADERS.append(load_porting_demo)
