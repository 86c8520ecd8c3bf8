"""The orders demo: every account action of the demo's history is an order with its number and log; each brand
has the seven desks worked by the back office; the first login finds orders in every state and desk tasks
waiting; loading twice adds nothing."""

import pytest
from django.apps import apps

from telora.core import clock
from telora.core.demo import DEMO_LOADERS, DEMO_USERS, load_demo
from telora.core.models import User
from telora.customers import demo as customers_demo
from telora.customers.models import Subscription
from telora.orders import demo
from telora.orders.models import Order

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(not apps.is_installed("telora.workflows"), reason="needs the workflow engine")]


@pytest.fixture
def orders_demo(monkeypatch):
    """The demo's brands and customers, then the orders demo (without usage and bill runs)."""
    from telora.core import demo as core_demo

    monkeypatch.setattr(core_demo, "DEMO_LOADERS", [customers_demo.load_customers_demo, demo.load_orders_demo])
    monkeypatch.setattr(customers_demo, "CUSTOMERS_PER_BRAND", 24)
    load_demo()


def test_the_loader_and_the_back_office_login_are_registered():
    assert demo.load_orders_demo in DEMO_LOADERS
    assert DEMO_LOADERS.index(demo.load_orders_demo) > DEMO_LOADERS.index(customers_demo.load_customers_demo)
    assert "backoffice" in [user[0] for user in DEMO_USERS]


def test_the_orders_demo(orders_demo):
    """One load (it takes a while) for both checks."""
    check_the_history_is_made_of_orders()
    check_desks_and_orders_waiting_on_first_login()


def check_the_history_is_made_of_orders():
    for code in ("nordlink", "bluewave"):
        lines = Subscription.objects.filter(brand__code=code)
        sales = Order.objects.filter(brand__code=code, order_type="sign_up", subscription__isnull=False)
        assert sales.count() == lines.count()
        assert set(sales.values_list("subscription_id", flat=True)) == set(lines.values_list("pk", flat=True))
        history = Order.objects.filter(brand__code=code, created_at__lt=_day_ago())
        assert set(history.values_list("state", flat=True)) == {"completed"}
        assert {"sign_up", "change_plan", "suspend"} <= set(history.values_list("order_type", flat=True))
        assert set(history.values_list("channel", flat=True)) == {"gui", "selfcare"}
        numbers = list(Order.objects.filter(brand__code=code).values_list("number", flat=True))
        assert len(numbers) == len(set(numbers))
        order = history.filter(order_type="change_plan").first()
        assert [e.kind for e in order.entries.all()] == ["created", "started", "step", "completed"]


def check_desks_and_orders_waiting_on_first_login():
    from telora.workflows.models import Desk, FlowVersion, HumanTask
    from telora.workflows.selectors import may_work

    assert FlowVersion.objects.filter(definition__brand__isnull=True, state="published").count() == 16
    back_office = User.objects.get(username="backoffice")
    admin = User.objects.get(username="nordlink-admin")
    for code, credit_name in (("nordlink", "Kreditvurdering"), ("bluewave", "Credit checks")):
        desks = {desk.code: desk for desk in Desk.objects.filter(brand__code=code)}
        assert set(desks) == set(demo.DESKS) and desks["credit"].name == credit_name
        assert all(may_work(back_office, desk) for desk in desks.values())
        assert may_work(admin, desks["credit"]) == (code == "nordlink")
        placed = Order.objects.filter(brand__code=code, flow_key__gt="", created_at__gte=_day_ago())
        states = set(placed.values_list("state", flat=True))
        assert {"completed", "inProgress", "acknowledged", "failed"} <= states
        failed = placed.get(state="failed")
        assert "MOB_PRE" in failed.state_reason
        dated = placed.get(state="acknowledged")
        assert dated.order_type == "change_plan" and dated.request_mode == "next_period"
        waiting = {task.desk.code: task for task in HumanTask.objects.open().filter(brand__code=code)
                   .select_related("desk")}
        assert set(waiting) == set(demo.DESKS) - {"installation", "porting"}  # porting: its own demo, no desk
        approved = Order.objects.get(pk=int(waiting["credit"].instance.subject_id))
        assert approved.state == "inProgress"
        # the lost SIM card of last week waits at logistics past its due time (one business day)
        overdue = HumanTask.objects.open().filter(brand__code=code, due_at__lt=clock.now())
        assert "logistics" in set(overdue.values_list("desk__code", flat=True))
    sold = Order.objects.filter(brand__code="nordlink", order_type="sign_up", flow_instance_id__isnull=False)
    assert any(HumanTask.objects.filter(instance_id=o.flow_instance_id, desk__code="network", state="open").exists()
               for o in sold)  # the approved sale waits for activation at the host operator
    before = (Order.objects.count(), HumanTask.objects.count(), Desk.objects.count())
    load_demo()
    assert (Order.objects.count(), HumanTask.objects.count(), Desk.objects.count()) == before


def _day_ago():
    import datetime as dt

    from telora.core import clock

    return clock.now() - dt.timedelta(days=10)  # the day of orders, with the lost SIM card of eight days ago
