"""Provisioning: requests sent to the network simulator (telora netsim, a separate process) with 5 %
transient faults (503), until every one is accepted; lost or duplicated requests are counted at the
simulator (must be 0).

"sent" is the send job (send_due: claim a try in one transaction, POST with no lock held on a kept-alive
connection per thread, record the batch's answers in two statements (COPY of the exchanges, one
UPDATE … FROM (VALUES …)); the faulted ones again after their backoff; the circuit breaker is consulted
and fed as in production). Baseline, measured in the same run
against the same simulator: the same requests POSTed one by one with urllib and no database. Each
figure is the median of ROUNDS rounds on a fresh simulator. Measured with 1 and with 8 requests on the wire at once (on a
busy 2-core machine with a local simulator the threads cost more than they save; a distant operator's
latency is where they pay). Callbacks are not timed (the callback
address is left empty: the simulator sends none).

Run alone: python bench/run.py provisioning
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import urllib.request

from run import Timer

REQUESTS = 400
FAULT_RATE = 0.05
ROUNDS = 3


def _start(folder: str):
    process = subprocess.Popen([sys.executable, "-m", "telora.provisioning.netsim", "--port", "0", "--dir", folder,
                                "--api-key", "bench-key", "--latency", "0"], stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().split()[-1]


def _call(url, path, data=None):
    request = urllib.request.Request(url + path, data=json.dumps(data).encode() if data is not None else None,
                                     method="POST" if data is not None else "GET",
                                     headers={"Content-Type": "application/json", "Authorization": "Bearer bench-key"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status, json.loads(answer.read())


def _faults(prefix: str) -> list[dict]:
    step = int(1 / FAULT_RATE)
    return [{"kind": "5xx", "times": 1, "msisdn": f"{prefix}{n:06d}"} for n in range(0, REQUESTS, step)]


def run(report) -> None:
    from telora.core import clock
    from telora.core.models import Brand
    from telora.core.services import Actor
    from telora.core.services.brands import create_brand

    actor = Actor.system("bench")
    brand = Brand.objects.filter(code="bench").first() or create_brand(
        actor=actor, at=clock.now(), code="bench", name="Bench", currency="EUR", timezone="Europe/Amsterdam",
        country="NL", language="en")
    for concurrency, workers in ((1, 1), (8, 1), (8, 2)):
        _rounds(report, brand, actor, concurrency, workers)


# A worker process of the multi-process figure: its first pass over the queue (SKIP LOCKED shares it),
# started when the parent says "go"; the parent then sends the faulted ones after their backoff.
WORKER = """
import datetime as dt, sys
import django
django.setup()
from telora.provisioning import services
brand_id, concurrency, at = int(sys.argv[1]), int(sys.argv[2]), dt.datetime.fromisoformat(sys.argv[3])
print("ready", flush=True)
sys.stdin.readline()
while services.send_due(at=at, brand_ids=[brand_id], limit=100, concurrency=concurrency):
    pass
"""


def _send_with_workers(brand, at, concurrency: int, workers: int) -> float:
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "DJANGO_SETTINGS_MODULE": "telora.settings"}
    processes = [subprocess.Popen([sys.executable, "-c", WORKER, str(brand.pk), str(concurrency), at.isoformat()],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
                 for _ in range(workers)]
    try:
        for process in processes:
            assert process.stdout.readline().strip() == "ready"
        with Timer() as sent:
            for process in processes:
                process.stdin.write("go\n")
                process.stdin.flush()
            for process in processes:
                process.wait(600)
            _drain(brand, at + dt.timedelta(hours=2), concurrency)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    return sent.seconds


def _drain(brand, later, concurrency: int) -> None:
    from telora.provisioning import services
    from telora.provisioning.models import ProvisioningRequest

    while ProvisioningRequest.objects.filter(brand=brand, state="queued").exists():
        services.send_due(at=later, limit=200, concurrency=concurrency)
        later += dt.timedelta(hours=2)  # the faulted ones' backoff has passed


def _rounds(report, brand, actor, concurrency: int, workers: int = 1) -> None:
    from telora.core import clock
    from telora.provisioning import services

    telora_rates, baseline_rates, lost, duplicated = [], [], 0, 0
    for round_ in range(ROUNDS):
        with tempfile.TemporaryDirectory() as folder:
            process, url = _start(folder)
            try:
                prefix = f"3{workers}{concurrency}{round_}"
                _call(url, "/admin/faults", {"faults": _faults(prefix)})
                services.configure_target(brand, adapter="mvne_json", url=url, callback_url="",
                                          secrets={"api_key": "bench-key", "callback_secret": "s"}, actor=actor,
                                          at=clock.now())
                at = clock.now()
                for n in range(REQUESTS):
                    services.create_request(brand, operation="create", payload={"msisdn": f"{prefix}{n:06d}"},
                                            idempotency_key=f"bench:{workers}:{concurrency}:{round_}:{n}",
                                            actor=actor, at=at)
                if workers > 1:
                    seconds = _send_with_workers(brand, at, concurrency, workers)
                else:
                    with Timer() as sent:
                        _drain(brand, at, concurrency)
                    seconds = sent.seconds
                telora_rates.append(REQUESTS / seconds)
                subscribers = _call(url, "/v1/subscribers")[1]["subscribers"]
                taken = _call(url, "/admin/requests")[1]["requests"]
                lost += REQUESTS - len(subscribers)
                duplicated += len(taken) - len({t["idempotency_key"] for t in taken})
                # baseline: the same number of requests straight to the simulator, no database
                with Timer() as raw:
                    for n in range(REQUESTS):
                        _call(url, "/v1/requests", {"idempotency_key": f"raw:{workers}:{concurrency}:{round_}:{n}",
                                                    "operation": "create",
                                                    "payload": {"msisdn": f"9{prefix}{n:06d}"}})
                baseline_rates.append(REQUESTS / raw.seconds)
            finally:
                process.terminate()
                process.wait(10)
    size = (f"{REQUESTS} requests, {FAULT_RATE:.0%} 503s, {concurrency} on the wire per worker, {workers} "
            f"worker{'s' if workers > 1 else ''}, median of {ROUNDS}")
    telora_rate, baseline_rate = statistics.median(telora_rates), statistics.median(baseline_rates)
    report.figure(f"requests accepted ({workers} worker, {concurrency} at once)", telora_rate, "req/s",
                  f"{size}; x{telora_rate / baseline_rate:.2f} of baseline")
    report.figure("baseline: raw POSTs, no database", baseline_rate, "req/s", size)
    report.figure("lost requests", lost, "", "must be 0")
    report.figure("duplicated requests", duplicated, "", "must be 0")
