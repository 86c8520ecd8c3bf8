"""Barring: latency from a rating batch committing a prepaid line's zero balance to the bar request
being on the wire to the network simulator (telora netsim, a separate process).

Each line has 1.00 on it; a pre-rated (OCS) file with one 1.50 call is taken in and rated (the batch's
transaction commits the balance of -0.50 and its `balance.zero` event); the clock starts after that
commit. Then, as the workers do, the barring consumer takes the event (`dispatch`), which queues the bar
request, and the send job (`send_due`) POSTs it; the clock stops when the simulator has answered (202).
Not included: the time Procrastinate takes to hand the dispatch and send jobs to a worker (a LISTEN/NOTIFY
wake-up, milliseconds on an idle worker, queued behind other jobs on a busy one).

"one line at a time": LINES lines, one batch each. "burst": BURST lines reach zero in one file; the
consumer takes their events in one batch and the send job sends them 8 at once; each line's latency ends
when its own POST is answered. Baseline, in the same run: the same events handed to a consumer that only
counts them (the event dispatch alone), with the ratio.

Run alone: python bench/run.py barring
"""

from __future__ import annotations

import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time

LINES = 60
BURST = 200
HEADER = "record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"
NOOP = "bench.noop"


def _start(folder: str):
    process = subprocess.Popen([sys.executable, "-m", "telora.provisioning.netsim", "--port", "0", "--dir", folder,
                                "--api-key", "bench-key", "--latency", "0"], stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().split()[-1]


def _post(url: str, body: dict) -> None:
    import json
    import urllib.request

    request = urllib.request.Request(url + "/v1/requests", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": "Bearer bench-key"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


def _shop(actor):
    from stdnum import luhn

    from telora.catalog.services.apply import apply_catalog
    from telora.catalog.yamlio import load
    from telora.core import clock
    from telora.core.services.brands import create_brand
    from telora.customers.demo import CATALOG
    from telora.rating.services.sources import create_source

    brand = create_brand(actor=actor, at=clock.now(), code="bench", name="Bench", currency="EUR",
                         timezone="Europe/Amsterdam", country="NL", language="en")
    data = load(CATALOG.read_text())
    data["brand"] = {"code": brand.code, "name": brand.name, "currency": "EUR", "timezone": brand.timezone,
                     "country": "NL", "language": "en"}
    apply_catalog(data, actor=actor, at=clock.now(), effective_from=dt.date(2024, 1, 1))
    create_source(brand, actor=actor, at=clock.now(), code="ocs", format="csv", inbox="/tmp/bench-ocs",
                  pre_rated=True)
    brand.luhn = luhn  # the SIM numbers' check digit, for _lines
    return brand


def _lines(brand, actor, count: int, offset: int):
    from telora.core import clock
    from telora.customers import services as s
    from telora.inventory.models import PhoneNumber
    from telora.inventory.services import create_sim
    from telora.rating.services.balances import top_up

    start = clock.now() - dt.timedelta(days=10)
    lines = []
    for n in range(offset, offset + count):
        phone = PhoneNumber.objects.create(brand=brand, number=f"3162{n:07d}", created_at=start, updated_at=start)
        body = f"89314404{n:010d}"
        create_sim(brand, actor=actor, at=start, iccid=body + brand.luhn.calc_check_digit(body),
                   imsi=f"20408{n:010d}", sim_type="usim-4g")
        customer = s.create_customer(brand, actor=actor, at=start, kind="private", first_name="Bench",
                                     last_name=f"Line {n}", email=f"line{n}@example.com", phone="")
        s.add_address(customer, actor=actor, at=start, street1="Kerkstraat 1", postcode="1011 AB",
                      city="Amsterdam", roles=["legal", "billing"])
        account = s.create_billing_account(customer, actor=actor, at=start)
        line = s.create_subscription(customer, actor=actor, at=start, billing_account=account,
                                     service_type="mobile_prepaid", plan="MOB_PRE", number=phone)
        top_up(line, "1.00", actor=actor, at=start, reference="bench")
        lines.append(line)
    return lines


def _rate(brand, actor, lines, name: str) -> None:
    from telora.core import clock
    from telora.rating.services import import_usage_file, rate_pending

    when = (clock.now() - dt.timedelta(hours=1)).isoformat()
    rows = "".join(f"{name}-{line.pk},voice,{line.identifier},31201234567,{when},90,,,NL,1.50\n" for line in lines)
    import_usage_file(brand, (HEADER + rows).encode(), format="csv", source="ocs", actor=actor, at=clock.now(),
                      name=f"{name}.csv")
    rate_pending(brand)  # each batch commits on its own: the events are visible from here


def _noop_consumer(counted: list):
    from telora.events.registry import consumer

    @consumer(NOOP, types=("balance.zero",))
    def count(event):
        counted.append(event.id)

    return count


def run(report) -> None:
    from telora.core import clock
    from telora.core.services import Actor
    from telora.events.services.dispatch import dispatch, skip_to_end
    from telora.provisioning import adapters, services
    from telora.provisioning.barring import CONSUMER
    from telora.provisioning.models import ProvisioningRequest

    actor = Actor.system("bench")
    brand = _shop(actor)
    counted: list = []
    _noop_consumer(counted)
    with tempfile.TemporaryDirectory() as folder:
        process, url = _start(folder)
        try:
            services.configure_target(brand, adapter="mvne_json", url=url, callback_url="",
                                      secrets={"api_key": "bench-key", "callback_secret": "s"}, actor=actor,
                                      at=clock.now())
            single, burst = _lines(brand, actor, LINES, 0), _lines(brand, actor, BURST, LINES)
            for line in (*single, *burst):  # the subscribers exist at the network (a bar of an unknown one is refused)
                _post(url, {"idempotency_key": f"create:{line.pk}", "operation": "create",
                            "payload": {"msisdn": line.identifier}})
            for consumer_name in (CONSUMER, NOOP):
                skip_to_end(consumer_name)  # the top-ups of the set-up are not what is measured

            # one line at a time
            bar_ms, base_ms = [], []
            for line in single:
                _rate(brand, actor, [line], f"one-{line.pk}")
                started = time.perf_counter()
                dispatch(CONSUMER)
                services.send_due(at=clock.now(), concurrency=1)
                bar_ms.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                dispatch(NOOP)
                base_ms.append((time.perf_counter() - started) * 1000)
            sent = ProvisioningRequest.objects.filter(brand=brand, operation="bar", state="acknowledged").count()
            _figures(report, "one line at a time", bar_ms, base_ms, f"{LINES} lines, {sent} bars accepted")

            # a burst: every line of one file at zero at once
            adapter = adapters.get_adapter("mvne_json")
            answered: dict[int, float] = {}
            plain_send = adapter.send

            def timed_send(request, credentials):
                outcome = plain_send(request, credentials)
                answered[request.pk] = time.perf_counter()
                return outcome

            adapter.send = timed_send
            try:
                _rate(brand, actor, burst, "burst")
                started = time.perf_counter()
                while dispatch(CONSUMER):
                    pass
                services.send_due(at=clock.now(), concurrency=8)
            finally:
                adapter.send = plain_send
            bar_ms = [(t - started) * 1000 for t in answered.values()]
            started = time.perf_counter()
            while dispatch(NOOP):
                pass
            burst_base = (time.perf_counter() - started) * 1000
            _figures(report, "burst", bar_ms, [burst_base], f"{BURST} lines in one file, {len(answered)} bars sent")
        finally:
            process.terminate()
            process.wait(10)


def _figures(report, label: str, bar_ms: list[float], base_ms: list[float], size: str) -> None:
    q = statistics.quantiles(bar_ms, n=100)
    base = statistics.median(base_ms)
    report.figure(f"zero balance to bar sent, {label}, p50", q[49], "ms", f"{size}; x{q[49] / base:.1f} of baseline")
    report.figure(f"zero balance to bar sent, {label}, p95", q[94], "ms", f"{size}; x{q[94] / base:.1f} of baseline")
    report.figure(f"baseline: event dispatch alone, {label}", base, "ms",
                  "median per line" if len(base_ms) > 1 else "the whole burst's events")
