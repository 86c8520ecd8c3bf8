"""API under load: `telora serve` as deployed, 20 and 1 keep-alive clients on the common read endpoints.

The data: one brand with CUSTOMERS customers, each with an address, a billing account and a postpaid
subscription with its plan (COPY, as the rating bench makes them), and an API key holding
customers.view. The server is `telora serve` with its default worker settings on a free loopback port
against this benchmark's database. The load generator runs in this process (asyncio, one keep-alive
connection per client, HTTP/1.1 on 127.0.0.1 only) on the same two cores as the server, so it takes
part of the CPU the server could use; its share is printed.

Each endpoint is driven alone for at most SECONDS or REQUESTS requests after a short warm-up, then all
six together. The baseline is `GET /api/v1/healthz` (routing, middleware, one `SELECT 1`) measured in
the same run; each line gives its ratio to it, which is steadier than the absolute figure on a shared
machine. Before the load, each endpoint is called once in-process to count its queries.

    BENCH_API_SECONDS=3 BENCH_API_CUSTOMERS=500 make bench BENCH=api
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

from bench_rating_pipeline import CATALOG
from bench_rating_pipeline import _subscriptions as seed_subscriptions
from run import copy_rows as _copy
from run import next_id as _next_id

CUSTOMERS = int(os.environ.get("BENCH_API_CUSTOMERS", 2000))
SECONDS = float(os.environ.get("BENCH_API_SECONDS", 5))
REQUESTS = int(os.environ.get("BENCH_API_REQUESTS", 20_000))
CONCURRENCY = tuple(int(n) for n in os.environ.get("BENCH_API_CLIENTS", "20,1").split(","))
WARMUP_SECONDS = 1.0
FIRST_NUMBER = 4570000000
PAGE = 20


def _addresses(brand_id: int) -> None:
    """One legal and billing address per customer of the brand."""
    from django.db import connection

    with connection.cursor() as wrapper:
        cur = wrapper.cursor
        first = _next_id(cur, "customers_address")
        cur.execute("SELECT id FROM customers_customer WHERE brand_id = %s ORDER BY id", [brand_id])
        at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        rows = ((first + i, brand_id, customer_id, ["legal", "billing"], f"Vestergade {i % 200 + 1}", "",
                 f"{1000 + i % 8000}", "København", "", "DK", at, at)
                for i, (customer_id,) in enumerate(cur.fetchall()))
        _copy(cur, "customers_address", ["id", "brand_id", "customer_id", "roles", "street1", "street2", "postcode",
                                         "city", "state", "country", "created_at", "updated_at"], rows)
        cur.execute("SELECT setval(pg_get_serial_sequence('customers_address', 'id'), "
                    "(SELECT MAX(id) FROM customers_address))")
        cur.execute("ANALYZE customers_address")


def _seed():
    """The brand, its customers and subscriptions, and an API key reading them: (token, customer ids, sub ids)."""
    from telora.catalog.models import Product
    from telora.catalog.services.apply import apply_catalog
    from telora.catalog.yamlio import load
    from telora.core import clock
    from telora.core.services import Actor
    from telora.core.services.brands import create_brand
    from telora.core.services.users import create_api_key, create_role, create_user
    from telora.customers.models import Customer, Subscription

    system = Actor.system("bench")
    brand = create_brand(actor=system, at=clock.now(), code="NORD", name="Nordmobil", currency="DKK",
                         timezone="Europe/Copenhagen", country="DK", language="da")
    apply_catalog(load(CATALOG.read_text()), actor=system, at=clock.now(), effective_from=dt.date(2024, 1, 1))
    seed_subscriptions(brand.pk, Product.objects.get(brand=brand, code="MOB_POST_BASIC").pk, n=CUSTOMERS,
                       first_number=FIRST_NUMBER, tag="A")
    _addresses(brand.pk)
    role = create_role(actor=system, at=clock.now(), name="api reader", brand=brand, permissions=["customers.view"])
    user = create_user(actor=system, at=clock.now(), username="bench-api", password=None, grants=[(brand, role)])
    _key, token = create_api_key(actor=system, at=clock.now(), user=user, name="bench", brands=[brand],
                                 permissions=["customers.view"])
    customers = list(Customer.objects.filter(brand=brand).values_list("pk", flat=True))
    subscriptions = list(Subscription.objects.filter(brand=brand).values_list("pk", flat=True))
    return token, customers, subscriptions


def _endpoints(customers: list[int], subscriptions: list[int]) -> dict[str, object]:
    """name -> a function of a Random giving the next path."""
    pages = max(1, len(customers) // PAGE)
    return {
        "TMF629 customer by id": lambda r: f"/tmf-api/customerManagement/v4/customer/{r.choice(customers)}",
        "TMF629 customer list (20)": lambda r: (f"/tmf-api/customerManagement/v4/customer?limit={PAGE}"
                                                f"&offset={r.randrange(pages) * PAGE}"),
        "TMF637 product by id": lambda r: f"/tmf-api/productInventory/v4/product/{r.choice(subscriptions)}",
        "TMF637 product list (20)": lambda r: (f"/tmf-api/productInventory/v4/product?limit={PAGE}"
                                               f"&offset={r.randrange(pages) * PAGE}"),
        "v1 customer addresses": lambda r: f"/api/v1/customers/{r.choice(customers)}/addresses",
        "v1 subscription by id": lambda r: f"/api/v1/subscriptions/{r.choice(subscriptions)}",
    }


def _queries_per_request(token: str, endpoints: dict) -> dict[str, int]:
    """Each endpoint once in-process (Django's test client, no HTTP), its queries counted."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client, rng, counts = Client(HTTP_HOST="127.0.0.1"), random.Random(3), {}
    for name, path in endpoints.items():
        url = path(rng)
        client.get(url, headers={"Authorization": f"Bearer {token}"})  # warm: first-use imports and caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        counts[name] = len(queries)
    connection.close()
    return counts


# ---- the server ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(port: int) -> subprocess.Popen:
    """`telora serve` with its default worker settings, on this bench's database; waits until healthy."""
    env = {**os.environ, "TELORA_INSECURE_COOKIES": "1", "TELORA_ALLOWED_HOSTS": "127.0.0.1"}
    server = subprocess.Popen([sys.executable, "-m", "telora.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"telora serve exited with {server.returncode}: {server.stderr.read()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    _stop_server(server)
    raise RuntimeError("telora serve did not answer /api/v1/healthz within 60 s")


def _stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# ---- the load generator ------------------------------------------------------------------------------


class Phase:
    """The latencies and failures of one measured phase."""

    def __init__(self):
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.seconds = 0.0


async def _client(port: int, headers: bytes, paths, rng: random.Random, until: float, budget: list[int],
                  phase: Phase | None) -> None:
    """One keep-alive connection sending GETs back to back until the time or the shared budget runs out."""
    reader = writer = None
    try:
        while time.perf_counter() < until and budget[0] > 0:
            budget[0] -= 1
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            path = paths(rng)
            start = time.perf_counter()
            writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\n" + headers)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length, closing = 0, False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    closing = True
            body = await reader.readexactly(length)
            elapsed = time.perf_counter() - start
            if phase is not None:
                phase.latencies.append(elapsed)
                if status != 200 or not body:
                    phase.failures.append(f"{path}: {status} {body[:200]!r}")
            if closing:
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


async def _drive(port: int, token: str, paths, clients: int, seconds: float, requests: int,
                 phase: Phase | None, seed: int) -> None:
    headers = (f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nAccept: application/json\r\n"
               "Connection: keep-alive\r\n\r\n").encode()
    start = time.perf_counter()
    budget = [requests]
    await asyncio.gather(*(_client(port, headers, paths, random.Random(seed * 1000 + i), start + seconds, budget,
                                   phase) for i in range(clients)))
    if phase is not None:
        phase.seconds = time.perf_counter() - start


def _measure(port: int, token: str, paths, clients: int) -> tuple[Phase, float]:
    """A warm-up, then the measured phase; (phase, this process's CPU share of the phase)."""
    asyncio.run(_drive(port, token, paths, clients, WARMUP_SECONDS, REQUESTS, None, seed=1))
    phase = Phase()
    cpu = time.process_time()
    asyncio.run(_drive(port, token, paths, clients, SECONDS, REQUESTS, phase, seed=2))
    cpu = (time.process_time() - cpu) / phase.seconds
    if phase.failures:
        raise AssertionError(f"{len(phase.failures)} failed requests, e.g. {phase.failures[0]}")
    return phase, cpu


def _quantiles(phase: Phase) -> tuple[float, float, float]:
    ms = sorted(s * 1000 for s in phase.latencies)
    q = statistics.quantiles(ms, n=100) if len(ms) > 1 else [ms[0]] * 99
    return q[49], q[89], q[98]


def run(report) -> None:
    token, customers, subscriptions = _seed()
    endpoints = _endpoints(customers, subscriptions)
    queries = _queries_per_request(token, endpoints)
    size = f"{len(customers):,} customers, {len(subscriptions):,} subscriptions"
    report.figure("data", len(customers), "customers", f"{len(subscriptions):,} subscriptions and product instances, "
                  f"{len(customers):,} addresses and accounts")
    for name, count in queries.items():
        report.figure(f"  queries: {name}", count, "per request")

    every = list(endpoints.values())

    def mixed(rng):
        return rng.choice(every)(rng)

    phases = [("baseline: /api/v1/healthz", lambda r: "/api/v1/healthz"), *endpoints.items(),
              ("all six read endpoints mixed", mixed)]
    port = _free_port()
    server = _start_server(port)
    try:
        for clients in CONCURRENCY:
            baseline = None
            print(f"  -- {clients} client{'s' if clients > 1 else ''}, keep-alive, at most {SECONDS:g} s or "
                  f"{REQUESTS:,} requests per line; `telora serve` defaults; load generator on the same cores",
                  flush=True)
            for name, paths in phases:
                phase, cpu = _measure(port, token, paths, clients)
                rate = len(phase.latencies) / phase.seconds
                baseline = baseline or rate
                p50, p90, p99 = _quantiles(phase)
                report.figure(f"{name}, {clients} cl.", rate, "req/s",
                              f"p50 {p50:.1f} ms, p90 {p90:.1f}, p99 {p99:.1f}; {rate / baseline:.2f} of healthz; "
                              f"generator {cpu:.0%} CPU; {len(phase.latencies):,} requests")
    finally:
        _stop_server(server)
    report.figure("  data size", len(customers), "customers", size)
