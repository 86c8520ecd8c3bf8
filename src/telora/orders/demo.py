"""Demo orders and desks: each demo brand gets the desks of the standard flows with the roles that work
them, the standard flows are published, and a day of orders is placed so that the first login finds
orders in every state and tasks waiting at the desks.

Appended to `telora.core.demo.DEMO_LOADERS` after the customers demo, whose history (every sale and
change of a line over the past year) is already made of orders: they ran directly and completed,
because the flows are published only here. From here on every account action runs its flow. The
`backoffice` login (role "Back office" in both brands) works the desks; so do the brand administrators.
Loading twice changes nothing: a brand that has orders with a flow keeps them.
"""

from __future__ import annotations

import datetime as dt

from django.apps import apps

from telora.core import clock
from telora.core.models import Brand, Role, User
from telora.core.services.actors import Actor
from telora.customers.models import Customer, Subscription

DESKS = ("credit", "network", "qualification", "installation", "logistics", "retention", "porting")
# Desk names in the brand's language (Nordlink works in Danish).
DESK_NAMES = {
    "en": {"credit": "Credit checks", "network": "Network (host operator)", "qualification": "Service qualification",
           "installation": "Installation appointments", "logistics": "Logistics (SIM cards and CPE)",
           "retention": "Retention", "porting": "Number porting"},
    "da": {"credit": "Kreditvurdering", "network": "Netværk (værtsoperatør)", "qualification": "Adressetjek",
           "installation": "Installationsaftaler", "logistics": "Logistik (SIM-kort og udstyr)",
           "retention": "Fastholdelse", "porting": "Nummerflytning"},
}
BACK_OFFICE = "Back office"
DESK_ROLES = (BACK_OFFICE, "Brand administrator")
# The back office works the desks (the steps after a desk step run as the flow, not as the desk user) and
# corrects customers' lines and orders by hand where a desk step asks for it.
BACK_OFFICE_PERMISSIONS = ["customers.view", "customers.change", "orders.view", "orders.change", "catalog.view",
                           "inventory.view", "workflows.view", "workflows.work"]
# Per brand: the donor operator and number of its port-in, and the CSR who takes its orders.
PEOPLE = {
    "nordlink": dict(donor="Telenor DK", ported="+4530123456", who="nordlink-admin"),
    "bluewave": dict(donor="Vodafone UK", ported="+447700900123", who="bluewave-admin"),
}


def engine_running() -> bool:
    return apps.is_installed("telora.workflows")


def ensure_desks(brand: Brand, actor: Actor) -> int:
    """The seven desks of the standard flows in the brand, worked by the back office and the brand's
    administrators; how many were added."""
    from telora.workflows.models import Desk
    from telora.workflows.services import create_desk

    names = DESK_NAMES.get(brand.language, DESK_NAMES["en"])
    roles = list(Role.objects.filter(brand__isnull=True, name__in=DESK_ROLES))
    added = 0
    for code in DESKS:
        if not Desk.objects.filter(brand=brand, code=code).exists():
            create_desk(brand, code, names[code], roles=roles, actor=actor, at=clock.now())
            added += 1
    return added


def load_standard_flows(actor: Actor) -> int:
    """Publish the shipped flows (`telora flows load src/telora/orders/flows`); unchanged ones are skipped."""
    from telora.orders.flows import FLOW_DIR
    from telora.workflows.models import FlowVersion
    from telora.workflows.services import load_flows

    before = FlowVersion.objects.filter(state=FlowVersion.PUBLISHED).count()
    load_flows(FLOW_DIR, actor=actor, at=clock.now())
    return FlowVersion.objects.filter(state=FlowVersion.PUBLISHED).count() - before


def _lines(brand: Brand, service_type: str, count: int) -> list[Subscription]:
    """Active lines of different customers, the newest first."""
    seen, lines = set(), []
    for line in (Subscription.objects.filter(brand=brand, status="active", service_type=service_type)
                 .select_related("customer", "brand").order_by("-id")[:count * 4]):
        if line.customer_id not in seen and line.customer.status == "active":
            seen.add(line.customer_id)
            lines.append(line)
        if len(lines) == count:
            break
    return lines


def _task(order):
    from telora.workflows.models import HumanTask

    return HumanTask.objects.filter(instance_id=order.flow_instance_id, state="open").first()


def _work(order, data: dict, *, actor: Actor, at: dt.datetime) -> None:
    """A desk completes the order's waiting task (the flow goes on to its next step)."""
    from telora.workflows.services import complete_task

    task = _task(order)
    if task is not None:
        complete_task(task, data=data, actor=actor, at=at)


def place_orders(brand: Brand) -> dict[str, int]:
    """The brand's day of orders (the last two days, a CSR at the screens and the back office at the
    desks, and a lost SIM card of last week still waiting: overdue): completed changes, sales waiting at
    each desk, a plan change for the next bill period and an order a check refused. Returns the orders per
    state."""
    from telora.orders.models import Order
    from telora.orders.services import create_order

    people = PEOPLE.get(brand.code, PEOPLE["bluewave"])
    csr_user = User.objects.filter(username=people["who"]).first()
    back_user = User.objects.filter(username="backoffice").first()
    csr = Actor(user=csr_user) if csr_user else Actor.system("demo")
    desk = Actor(user=back_user) if back_user else Actor.system("demo")
    now = clock.now()
    mobiles = _lines(brand, "mobile_postpaid", 7)
    customers = [line.customer for line in mobiles]
    fiber_customer = (Customer.objects.filter(brand=brand, status="active", kind="private", addresses__roles__contains=[
        "installation"]).exclude(pk__in=[c.pk for c in customers]).order_by("-id").first())
    if len(mobiles) < 7 or fiber_customer is None:
        return {}

    def at(hours: float) -> dt.datetime:
        return now - dt.timedelta(hours=hours)

    placed = []

    def order(customer, order_type, hours, *, line=None, offering="", channel="gui", **values):
        options = {key: values.pop(key) for key in ("request_mode", "requested_for") if key in values}
        placed.append(create_order(customer, actor=csr, at=at(hours), order_type=order_type, channel=channel,
                                   subscription=line, items=[{"product_offering": offering,
                                                              "characteristics": values}], **options))
        return placed[-1]

    # Completed through their flows: a plan change (the network desk changed it at the host) and an add-on.
    current = {line.pk: line.products.filter(kind="plan", end_at__isnull=True).values_list("product__code", flat=True)
               .first() for line in mobiles}
    other = {code: "MOB_POST_10GB" if code == "MOB_POST_BASIC" else "MOB_POST_BASIC" for code in current.values()}
    changed = order(customers[0], "change_plan", 46, line=mobiles[0], offering=other[current[mobiles[0].pk]])
    _work(changed, {"host_reference": "HOST-CHG-0046"}, actor=desk, at=at(45))  # the network desk changed it
    if not mobiles[1].products.filter(product__code="ROAM_EU_5GB", end_at__isnull=True).exists():
        order(customers[1], "add_addon", 44, line=mobiles[1], offering="ROAM_EU_5GB", channel="selfcare")
    # A new mobile line waiting for the credit check; another, approved, waiting for activation at the host.
    order(customers[2], "sign_up", 30, offering="MOB_POST_BASIC", service_type="mobile_postpaid")
    approved = order(customers[3], "sign_up", 26, offering="MOB_POST_10GB", service_type="mobile_postpaid")
    _work(approved, {"decision": "approved"}, actor=desk, at=at(20))
    # A fiber line waiting for the address and availability check (TMF645).
    order(fiber_customer, "sign_up", 22, offering="FIBER_500", service_type="fiber")
    # A lost SIM card reported eight days ago: blocked, the new card still waits at logistics, long past its due
    # time of one business day, so the first login finds an overdue task whatever the weekday or holidays.
    order(customers[4], "swap_sim", 8 * 24, line=mobiles[4], reason="lost phone")
    # A cancellation within the commitment waiting at retention, a number change at the network desk.
    bound = (Subscription.objects.filter(brand=brand, status="active", service_type="mobile_postpaid",
                                         commitment_end__gt=now).exclude(pk__in=[m.pk for m in mobiles])
             .order_by("-commitment_end", "id").first()) or mobiles[5]
    order(bound.customer, "terminate", 5, line=bound, reason="moving abroad")
    order(customers[6], "number_change", 3, line=mobiles[6], reason="unwanted calls")
    # Number porting (port_in, port_out orders) is the porting app's demo: it needs the clearing house.
    # Back to the first plan from the start of the next bill period: it waits, acknowledged, until its date.
    order(customers[0], "change_plan", 1, line=mobiles[0], offering=current[mobiles[0].pk],
          request_mode="next_period")
    # Refused by a check: a prepaid plan on a postpaid line fails with the catalogue's reason, applying nothing.
    order(customers[1], "change_plan", 0.5, line=mobiles[1], offering="MOB_PRE")
    counts: dict[str, int] = {}
    for state in Order.objects.filter(pk__in=[o.pk for o in placed]).values_list("state", flat=True):
        counts[state] = counts.get(state, 0) + 1
    return counts


def load_orders_demo(actor: Actor, report) -> None:
    from telora.core.demo import DEMO_BRANDS
    from telora.orders.models import Order

    if not engine_running():
        return
    brands = [b for b in (Brand.objects.filter(code=spec["code"]).first() for spec in DEMO_BRANDS) if b is not None]
    report.step("orders: desks, standard flows and a day of orders", 1 + len(brands))
    desks = sum(ensure_desks(brand, actor) for brand in brands)
    flows = load_standard_flows(actor)
    if desks or flows:
        report.note(f"orders: {desks} desks, {flows} standard flows published")
    report.advance()
    for brand in brands:
        if not Order.objects.filter(brand=brand, flow_instance_id__isnull=False).exists():
            counts = place_orders(brand)
            if counts:
                report.note(f"{brand.code}: orders " + ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
                            + f"; {_open_tasks(brand)} desk tasks waiting")
        report.advance()


def _open_tasks(brand: Brand) -> int:
    from telora.workflows.models import HumanTask

    return HumanTask.objects.open().filter(brand=brand).count()


def register() -> None:
    from telora.core.demo import DEMO_LOADERS, DEMO_ROLES, DEMO_USERS

    if engine_running():
        DEMO_ROLES.setdefault(BACK_OFFICE, BACK_OFFICE_PERMISSIONS)
        if not any(user[0] == "backoffice" for user in DEMO_USERS):
            DEMO_USERS.append(("backoffice", False, [(code, BACK_OFFICE) for code in PEOPLE],
                               "back office of both brands: works the order desks (credit, network, porting, ...)"))
    if load_orders_demo not in DEMO_LOADERS:
        DEMO_LOADERS.append(load_orders_demo)
