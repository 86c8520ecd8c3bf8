"""TMF640 reads: services (the network's state of each line, computed from its requests in SQL) and
monitors, in-process (Django's test client, no HTTP), on LINES provisioned lines.

The data: one brand, LINES postpaid subscriptions (COPY, as the rating bench makes them), each with a
completed `create`; every 10th barred (a completed `bar`), every 20th barred and unbarred again, every
7th with a `change_services` still queued: about 2.3 requests a line. The baseline, measured in the same
run on the same lines and key: TMF637's product list (the same subscriptions in the Product shape).
Each figure is the median of ROUNDS calls after a warm-up, with its ratio to the baseline.

    BENCH_TMF640_LINES=2000 python bench/run.py tmf640
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import time

from bench_rating_pipeline import CATALOG
from bench_rating_pipeline import _subscriptions as seed_subscriptions
from run import copy_rows as _copy
from run import next_id as _next_id

LINES = int(os.environ.get("BENCH_TMF640_LINES", 10_000))
ROUNDS = int(os.environ.get("BENCH_TMF640_ROUNDS", 30))
FIRST_NUMBER = 4580000000
PAGE = 50
BASE = "/tmf-api/serviceActivationAndConfiguration/v4"

COLUMNS = ["id", "brand_id", "target_id", "subscription_id", "step_key", "operation", "payload", "state", "tries",
           "idempotency_key", "correlation_id", "error_code", "error", "result", "created_at", "sent_at",
           "completed_at", "updated_at"]


def _requests(brand_id: int, target_id: int) -> int:
    """The lines' requests by COPY; how many."""
    from django.db import connection

    with connection.cursor() as wrapper:
        cur = wrapper.cursor
        first = _next_id(cur, "provisioning_provisioningrequest")
        cur.execute("SELECT id, identifier FROM customers_subscription WHERE brand_id = %s ORDER BY id", [brand_id])
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        rows = []
        for n, (sub, msisdn) in enumerate(cur.fetchall()):
            steps = [("create", "completed")]
            if n % 10 == 0:
                steps.append(("bar", "completed"))
            if n % 20 == 0:
                steps.append(("unbar", "completed"))
            if n % 7 == 0:
                steps.append(("change_services", "queued"))
            for step, (operation, state) in enumerate(steps):
                at = start + dt.timedelta(days=step, seconds=n)
                payload = json.dumps({"msisdn": msisdn, "subscription": sub, "services": ["MOB_POST_BASIC"]})
                rows.append((first + len(rows), brand_id, target_id, sub, "", operation, payload, state, 1,
                             f"bench:{sub}:{step}", f"HOST-{sub}-{step}", "", "", "{}", at, at,
                             at if state == "completed" else None, at))
        count = _copy(cur, "provisioning_provisioningrequest", COLUMNS, rows)
        cur.execute("SELECT setval(pg_get_serial_sequence('provisioning_provisioningrequest', 'id'), "
                    "(SELECT MAX(id) FROM provisioning_provisioningrequest))")
        cur.execute("ANALYZE provisioning_provisioningrequest")
    return count


def _seed():
    from telora.catalog.models import Product
    from telora.catalog.services.apply import apply_catalog
    from telora.catalog.yamlio import load
    from telora.core import clock
    from telora.core.models import Brand
    from telora.core.services import Actor
    from telora.core.services.brands import create_brand
    from telora.core.services.users import create_api_key, create_role, create_user
    from telora.customers.models import Subscription
    from telora.provisioning.services import configure_target

    system = Actor.system("bench")
    perms = ["customers.view", "provisioning.view"]
    brand = Brand.objects.filter(code="NORD").first()
    if brand is None:
        brand = create_brand(actor=system, at=clock.now(), code="NORD", name="Nordmobil", currency="DKK",
                             timezone="Europe/Copenhagen", country="DK", language="da")
        apply_catalog(load(CATALOG.read_text()), actor=system, at=clock.now(), effective_from=dt.date(2024, 1, 1))
    if not Subscription.objects.filter(brand=brand, identifier=str(FIRST_NUMBER)).exists():
        seed_subscriptions(brand.pk, Product.objects.get(brand=brand, code="MOB_POST_BASIC").pk, n=LINES,
                           first_number=FIRST_NUMBER, tag="P")
    target = configure_target(brand, adapter="manual", name="Host operator", actor=system, at=clock.now())
    requests = _requests(brand.pk, target.pk)
    role = create_role(actor=system, at=clock.now(), name="tmf640 reader", brand=brand, permissions=perms)
    user = create_user(actor=system, at=clock.now(), username="bench-tmf640", password=None, grants=[(brand, role)])
    _key, token = create_api_key(actor=system, at=clock.now(), user=user, name="bench", brands=[brand],
                                 permissions=perms)
    lines = list(Subscription.objects.filter(brand=brand, identifier__gte=str(FIRST_NUMBER))
                 .order_by("id").values_list("pk", flat=True))
    return token, lines, requests


def _median_ms(client, token: str, path: str) -> float:
    headers = {"Authorization": f"Bearer {token}"}
    response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        client.get(path, headers=headers)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def run(report) -> None:
    from django.test import Client

    token, lines, requests = _seed()
    size = f"({len(lines):,} lines, {requests:,} requests)"
    client = Client(HTTP_HOST="127.0.0.1")
    middle = lines[len(lines) // 2]
    offset = (len(lines) // 2) // PAGE * PAGE
    baseline = _median_ms(client, token, f"/tmf-api/productInventory/v4/product?limit={PAGE}&offset={offset}")
    report.figure(f"TMF637 product list ({PAGE}) baseline", baseline, "ms", size)
    for name, path in [
        (f"TMF640 service list ({PAGE})", f"{BASE}/service?limit={PAGE}&offset={offset}"),
        (f"TMF640 service list state=inactive ({PAGE})", f"{BASE}/service?state=inactive&limit={PAGE}"),
        ("TMF640 service by id", f"{BASE}/service/{middle}"),
        (f"TMF640 monitor list ({PAGE})", f"{BASE}/monitor?limit={PAGE}&offset={offset}"),
        ("TMF640 monitors of a line", f"{BASE}/monitor?service.id={middle}"),
    ]:
        ms = _median_ms(client, token, path)
        report.figure(name, ms, "ms", f"{size} ratio {ms / baseline:.2f}")
