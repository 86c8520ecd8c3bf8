"""A plan change ordered for the next bill period bills right in the next run: the old plan to the end
of the period, the new one from its first day (no proration), on a frozen clock."""

import datetime as dt
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine

from telora.billing.models import Invoice
from telora.billing.services import execute_run, start_run
from telora.orders.services import create_order, run_due_orders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept")]
CPH = ZoneInfo("Europe/Copenhagen")
EXAMPLES = __import__("pathlib").Path(__file__).resolve().parents[2] / "docs" / "examples"


def cph(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=CPH)


@pytest.fixture
def nord(make_brand, system):
    from telora.catalog.services.apply import apply_catalog
    from telora.catalog.yamlio import load
    from telora.core import clock

    brand = make_brand("NORD", name="Nordmobil", currency="DKK", timezone="Europe/Copenhagen", country="DK",
                       language="da")
    apply_catalog(load((EXAMPLES / "catalog.yaml").read_text()), actor=system, at=clock.now(),
                  effective_from=dt.date(2024, 1, 1))
    return brand


@pytest.mark.parametrize("through_flow", [False, True], ids=["direct", "flow"])
def test_a_plan_change_for_the_next_period_bills_from_that_period(nord, system, through_flow):
    """Direct, and through the standard change_plan flow (the change on the period's first day, then the
    network desk's "Change at the host operator" completed days later: billing follows the change)."""
    from django.apps import apps
    from stdnum import luhn

    from telora.catalog.models import BillCycle
    from telora.customers import services as s
    from telora.inventory.models import PhoneNumber
    from telora.inventory.services import create_sim

    start = cph("2026-01-01")
    customer = s.create_customer(nord, actor=system, at=start, kind="private", first_name="Per", last_name="Plan",
                                 email="k@example.com", phone="")
    s.add_address(customer, actor=system, at=start, street1="Vestergade 1", postcode="1456", city="København",
                  country="DK", roles=["legal", "billing", "installation"])
    account = s.create_billing_account(customer, actor=system, at=start,
                                       bill_cycle=BillCycle.objects.get(brand=nord, code="M01"))
    phone = PhoneNumber.objects.create(brand=nord, number="4520000001", created_at=start, updated_at=start)
    body = "894510000000000001"
    create_sim(nord, actor=system, at=start, iccid=body + luhn.calc_check_digit(body), imsi="238010000000001",
               sim_type="usim-4g")
    line = s.create_subscription(customer, actor=system, at=cph("2026-02-01"), billing_account=account,
                                 service_type="mobile_postpaid", number=phone, plan="MOB_POST_BASIC")
    with time_machine.travel(cph("2026-03-02"), tick=False):
        execute_run(start_run(nord, "M01", "2026-02", (), "production", actor=system, at=cph("2026-03-02")),
                    at=cph("2026-03-02"))
    asked = cph("2026-03-16T09:00")
    with time_machine.travel(asked, tick=False):
        order = create_order(customer, actor=system, at=asked, order_type="change_plan", subscription=line,
                             items=[{"product_offering": "MOB_POST_10GB"}], request_mode="next_period")
    assert order.state == "acknowledged" and order.requested_at == cph("2026-04-01")
    if through_flow:
        if not apps.is_installed("telora.workflows"):
            pytest.skip("needs the workflow engine")
        from telora.orders.flows import FLOW_DIR
        from telora.workflows.services import create_desk, load_flows

        for code in ("credit", "network", "qualification", "installation", "logistics", "retention", "porting"):
            create_desk(nord, code, code.title(), actor=system, at=asked)
        load_flows(FLOW_DIR, actor=system, at=asked)
    with time_machine.travel(cph("2026-04-01T00:03"), tick=False):
        assert run_due_orders(at=cph("2026-04-01T00:03"))["started"] == 1
    if through_flow:
        from telora.workflows.models import HumanTask
        from telora.workflows.services import complete_task

        order.refresh_from_db()
        assert order.state == "inProgress"
        task = HumanTask.objects.get(instance_id=order.flow_instance_id, state="open")
        assert (task.desk.code, task.name) == ("network", "Change at the host operator")
        with time_machine.travel(cph("2026-04-03T10:00"), tick=False):
            complete_task(task, data={"host_reference": "H-9"}, actor=system, at=cph("2026-04-03T10:00"))
        order.refresh_from_db()
        assert order.state == "completed"
    lines = []
    for period, on in (("2026-03", "2026-04-02"), ("2026-04", "2026-05-02")):
        with time_machine.travel(cph(on), tick=False):
            run = execute_run(start_run(nord, "M01", period, (), "production", actor=system, at=cph(on)), at=cph(on))
        lines += [(period, x.kind, x.description, x.amount) for x in Invoice.objects.filter(run=run)
                  .first().lines.order_by("position")] if Invoice.objects.filter(run=run).exists() else []
    # March was billed in advance on the old plan by February's run; from April only the new plan is
    # billed, from its first day: no credit, no proration, no line of the old plan.
    assert ("2026-04", "recurring", "Mobil 10 GB", D("149.00")) in lines
    assert not [x for x in lines if x[1] in ("credit", "proration") or x[2] == "Mobil Basis"]
