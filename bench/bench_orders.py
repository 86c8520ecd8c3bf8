"""Orders: mobile postpaid sign-up orders end to end through the standard flow (credit check and "Activate at
the host operator" completed by the script) per second, step latency, and the desk page with many open tasks.

Baselines in the same run: the same sign-up orders run by the direct runner (no flow, no desk); for the desk
page, the bare query of the rows the page shows. The SQL statements each sign-up sends (savepoints and the
script's own read of each open desk task included; BEGIN and COMMIT not) are counted beside the rates.
Sizes: ORDERS_BENCH_ORDERS (default 50) sign-ups, ORDERS_BENCH_TASKS (default 10,000; the issue's figure is 100,000) open tasks at the desk.
"""

from __future__ import annotations

import datetime as dt
import os
import time

from run import Timer, copy_rows, next_id

ORDERS = int(os.environ.get("ORDERS_BENCH_ORDERS", "50"))
TASKS = int(os.environ.get("ORDERS_BENCH_TASKS", "10000"))
CUSTOMERS = 20
PAGE_REQUESTS = 40


def _shop(system):
    from stdnum import luhn

    from telora.catalog.services.apply import apply_catalog
    from telora.catalog.yamlio import load
    from telora.core import clock
    from telora.core.services.brands import create_brand
    from telora.customers import services as s
    from telora.customers.demo import CATALOG
    from telora.inventory.services import import_numbers, import_sims

    brand = create_brand(actor=system, at=clock.now(), code="ob", name="Orders bench", currency="DKK",
                         timezone="Europe/Copenhagen", country="DK", language="da")
    data = load(CATALOG.read_text())
    data["brand"] = {**data["brand"], "code": brand.code, "name": brand.name}
    apply_catalog(data, actor=system, at=clock.now(), effective_from=dt.date(2024, 1, 1), source="bench")
    stock = 2 * ORDERS + 10
    numbers = "\n".join(str(4520100000 + n) for n in range(stock))
    import_numbers(brand, f"number\n{numbers}\n".encode(), actor=system, at=clock.now(), file_name="n.csv")
    lines = ["iccid,imsi,pin1,puk1,sim_type,partner,batch"]
    for n in range(stock):
        body = f"8945020099{n:08d}"
        lines.append(f"{body}{luhn.calc_check_digit(body)},23820{n:010d},1234,{n:08d},usim-4g,Bench,B1")
    import_sims(brand, ("\n".join(lines) + "\n").encode(), actor=system, at=clock.now(), file_name="s.csv")
    customers = []
    for n in range(CUSTOMERS):
        customer = s.create_customer(brand, actor=system, at=clock.now(), kind="private", first_name=f"Kunde{n}",
                                     last_name="Bench", email=f"k{n}@example.com", phone="")
        address = s.add_address(customer, actor=system, at=clock.now(), street1="Vestergade 1", postcode="1050",
                                city="København K", roles=["legal", "billing", "shipping", "installation"])
        s.create_billing_account(customer, actor=system, at=clock.now(), billing_address=address,
                                 credit_limit="100000.00")
        customers.append(customer)
    return brand, customers


def _sign_up(customer, system, plan="MOB_POST_BASIC"):
    from telora.core import clock
    from telora.orders.services import create_order

    return create_order(customer, actor=system, at=clock.now(), order_type="sign_up", items=[{
        "product_offering": plan, "characteristics": {"service_type": "mobile_postpaid", "sim_type": "usim-4g"}}])


def _open_task(order):
    from telora.workflows.models import HumanTask

    task = HumanTask.objects.filter(instance_id=order.flow_instance_id, state="open").first()
    if task is None:
        order.refresh_from_db()
        raise AssertionError(f"order {order.number} waits at no desk: {order.state} {order.state_reason}")
    return task


class QueryCounter:
    """Counts the SQL statements the connection sends (an execute wrapper: no SQL text is kept)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def orders_per_second(report, brand, customers, system) -> None:
    from django.db import connection

    from telora.core import clock
    from telora.orders.flows import FLOW_DIR
    from telora.orders.models import Order
    from telora.workflows.models import Desk
    from telora.workflows.services import complete_task, create_desk, load_flows

    size = f"{ORDERS} sign-ups"
    direct_queries = QueryCounter()
    with Timer() as base, connection.execute_wrapper(direct_queries):  # no flow published yet: the direct runner
        for n in range(ORDERS):
            order = _sign_up(customers[n % CUSTOMERS], system)
            assert order.state == "completed", (order.state, order.state_reason)
    direct = ORDERS / base.seconds
    report.figure("sign-up orders, direct runner (baseline)", direct, "orders/s", size)
    report.figure("SQL statements per sign-up, direct runner", direct_queries.count / ORDERS, "queries", size)

    for code in ("credit", "network", "qualification", "installation", "logistics", "retention", "porting"):
        if not Desk.objects.filter(brand=brand, code=code).exists():
            create_desk(brand, code, code.title(), actor=system, at=clock.now())
    load_flows(FLOW_DIR, actor=system, at=clock.now())
    starts, steps, orders = [], [], []
    flow_queries = QueryCounter()
    with Timer() as total, connection.execute_wrapper(flow_queries):
        for n in range(ORDERS):
            with Timer() as t:
                order = _sign_up(customers[n % CUSTOMERS], system)
            starts.append(t.seconds)
            for data in ({"decision": "approved"}, {"host_reference": f"HOST-{n}"}):
                task = _open_task(order)
                with Timer() as t:
                    complete_task(task, data=data, actor=system, at=clock.now())
                steps.append(t.seconds)
            orders.append(order.pk)
    done = Order.objects.filter(pk__in=orders, state="completed").count()
    assert done == ORDERS, (done, list(Order.objects.filter(pk__in=orders).exclude(state="completed")
                                       .values_list("state", "state_reason")[:3]))
    rate = ORDERS / total.seconds
    report.figure("sign-up orders through the flow (2 desk steps)", rate, "orders/s", size)
    report.figure("ratio flow / direct runner", rate / direct, "x", size)
    report.figure("SQL statements per sign-up through the flow", flow_queries.count / ORDERS, "queries", size)
    report.figure("SQL statements ratio flow / direct runner", flow_queries.count / max(direct_queries.count, 1),
                  "x", size)
    report.latencies("order taken -> waiting at the credit desk", starts, size)
    report.latencies("desk step completed -> next desk or end", steps, size)


def _open_tasks(brand, desk, count: int) -> None:
    """`count` open tasks at the desk, of one flow instance (the page does not read the instance's state),
    created over the past 30 days, a third without a due time, a fifth overdue, every tenth claimed, every
    thousandth a failure to handle."""
    from django.db import connection

    from telora.core import clock
    from telora.workflows.models import FlowInstance, FlowVersion

    now = clock.now()
    version = FlowVersion.objects.filter(definition__key="signup_mobile_postpaid").first()
    instance = FlowInstance.objects.create(brand=brand, version=version, subject_type="bench", subject_id="0",
                                           state="waiting", state_json="{}", started_at=now, updated_at=now)
    with connection.cursor() as cur:
        raw = cur.connection.cursor()
        first = next_id(raw, "workflows_humantask")
        columns = ["id", "brand_id", "instance_id", "desk_id", "task_id", "element", "name", "kind", "fields",
                   "state", "subject_label", "error", "due_at", "created_at", "result", "reason", "closed_by"]

        def rows():
            for n in range(count):
                created = now - dt.timedelta(minutes=(n * 43_200) // max(count, 1))
                due = None if n % 3 == 0 else created + dt.timedelta(hours=4 if n % 5 else -1)
                kind = "failure" if n % 1000 == 7 else "user"
                yield (first + n, brand.pk, instance.pk, desk.pk, f"bench-{n}", "activate_host",
                       "Activate at the host operator", kind, "[]", "claimed" if n % 10 == 0 else "open",
                       f"O2026{n:06d} Kunde{n % 997} Bench", "", due, created, "{}", "", "")

        copy_rows(raw, "workflows_humantask", columns, rows())
    # What autovacuum does after a bulk insert (statistics and the visibility map the capped count's
    # index-only scan reads), done at once so the figures do not depend on when it comes.
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE workflows_humantask")


def desk_page(report, brand, system) -> None:
    from django.test import Client
    from django.urls import reverse

    from telora.core import clock
    from telora.core.demo import ensure_platform_roles
    from telora.core.services.users import create_user
    from telora.workflows import selectors
    from telora.workflows.models import Desk, HumanTask

    desk = Desk.objects.get(brand=brand, code="network")
    _open_tasks(brand, desk, TASKS)
    roles = ensure_platform_roles(system)
    user = create_user(actor=system, at=clock.now(), username="bench-desk", password="bench-secret-2026",
                       email="d@example.com", grants=[(brand, roles["Brand administrator"])])
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    size = f"{TASKS:,} open tasks"
    url = reverse("workflows:desk", args=[desk.pk])
    variants = {"": {}, "overdue": {"due": "overdue"}, "subject": {"subject": "Kunde42 "}, "age": {"age": "48"},
                "failures": {"kind": "failure"}}
    # a page deep in the queue (keyset paging): the one after the task halfway down
    halfway = (HumanTask.objects.open().filter(desk=desk).order_by("due_at", "created_at", "id")
               .values_list("due_at", "created_at", "id")[TASKS // 2])
    variants["halfway down"] = {"after": halfway[2]}
    page_times: dict[str, list[float]] = {name: [] for name in variants}
    query_times: dict[str, list[float]] = {name: [] for name in variants}
    assert client.get(url).status_code == 200  # warm: templates, menu, session
    for _ in range(PAGE_REQUESTS):
        for name, params in variants.items():
            started = time.perf_counter()
            response = client.get(url, params)
            page_times[name].append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
            started = time.perf_counter()
            selectors.task_page(desk, filters=params, at=clock.now(), after=halfway if "after" in params else None)
            query_times[name].append(time.perf_counter() - started)
    empty = Desk.objects.get(brand=brand, code="credit")  # no task waits there after the sign-ups
    shell = []
    for _ in range(PAGE_REQUESTS):
        started = time.perf_counter()
        assert client.get(reverse("workflows:desk", args=[empty.pk])).status_code == 200
        shell.append(time.perf_counter() - started)
    report.latencies("empty desk page (the screen's shell)", shell, size)
    desk_list = []
    for _ in range(PAGE_REQUESTS):
        started = time.perf_counter()
        assert client.get(reverse("workflows:desk_list")).status_code == 200
        desk_list.append(time.perf_counter() - started)
    report.latencies("desk list (counts capped at 10,000)", desk_list, size)
    for name in variants:
        label = f"desk page{' (' + name + ')' if name else ''}"
        report.latencies(label, page_times[name], size)
        bare = sorted(query_times[name])[int(0.95 * (len(query_times[name]) - 1))]
        page = sorted(page_times[name])[int(0.95 * (len(page_times[name]) - 1))]
        report.figure(f"{label}: bare query p95 (baseline)", bare * 1000, "ms", size)
        report.figure(f"{label}: page / bare query p95", page / bare, "x", size)
        report.figure(f"{label}: page / empty desk page p95", page / sorted(shell)[int(0.95 * (len(shell) - 1))],
                      "x", size)


def run(report) -> None:
    from telora.core.services import Actor

    system = Actor.system("bench")
    brand, customers = _shop(system)
    orders_per_second(report, brand, customers, system)
    desk_page(report, brand, system)
