"""Provisioning over SOAP: requests sent by the send job through the `hlr_soap` adapter (zeep) to netsim's
SOAP side (a separate process) with 5 % Server faults, until every one is completed in the call; lost or
duplicated requests are counted at the simulator (must be 0).

Measured in the same run against the same kind of simulator: the baseline is the adapter's SOAP calls
alone (zeep to netsim, no database), and, for comparison, the same requests through the send job with the
JSON adapter (`mvne_json`, no callbacks). Each figure is the median of ROUNDS rounds on a fresh simulator,
one request on the wire at a time.

Run alone: python bench/run.py provisioning_soap
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from types import SimpleNamespace

from run import Timer

REQUESTS = 300
FAULT_RATE = 0.05
ROUNDS = 3
USER, PASSWORD = "bench", "bench-password"


def _start(folder: str):
    process = subprocess.Popen([sys.executable, "-m", "telora.provisioning.netsim", "--port", "0", "--dir", folder,
                                "--api-key", "bench-key", "--latency", "0", "--soap-username", USER,
                                "--soap-password", PASSWORD], stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().split()[-1]


def _get(url, path, data=None):
    request = urllib.request.Request(url + path, data=json.dumps(data).encode() if data is not None else None,
                                     method="POST" if data is not None else "GET",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def _line(prefix: str, n: int) -> dict:
    return {"msisdn": f"{prefix}{n:06d}", "imsi": f"20408{n:010d}", "iccid": f"893144040{n:010d}"}


def run(report) -> None:
    from telora.core import clock
    from telora.core.models import Brand
    from telora.core.services import Actor
    from telora.core.services.brands import create_brand

    actor = Actor.system("bench")
    brand = Brand.objects.filter(code="bench").first() or create_brand(
        actor=actor, at=clock.now(), code="bench", name="Bench", currency="EUR", timezone="Europe/Amsterdam",
        country="NL", language="en")
    soap, raw, json_rates, lost, duplicated = [], [], [], 0, 0
    for round_ in range(ROUNDS):
        with tempfile.TemporaryDirectory() as folder:
            process, url = _start(folder)
            try:
                prefix = f"315{round_}"
                step = int(1 / FAULT_RATE)
                _get(url, "/admin/faults", {"faults": [{"kind": "5xx", "times": 1, "msisdn": f"{prefix}{n:06d}"}
                                                       for n in range(0, REQUESTS, step)]})
                soap.append(_send_job(brand, actor, url, "hlr_soap", prefix, round_))
                subscribers = _get(url, "/v1/subscribers")["subscribers"]
                taken = _get(url, "/admin/requests")["requests"]
                lost += REQUESTS - len(subscribers)
                duplicated += len(taken) - len({t["idempotency_key"] for t in taken})
                raw.append(_adapter_alone(url, f"316{round_}", round_))
                json_rates.append(_send_job(brand, actor, url, "mvne_json", f"317{round_}", round_))
            finally:
                process.terminate()
                process.wait(10)
    size = f"{REQUESTS} requests, {FAULT_RATE:.0%} Server faults, 1 on the wire, median of {ROUNDS}"
    soap_rate, raw_rate, json_rate = statistics.median(soap), statistics.median(raw), statistics.median(json_rates)
    report.figure("SOAP requests completed (send job, hlr_soap)", soap_rate, "req/s",
                  f"{size}; x{soap_rate / raw_rate:.2f} of baseline, x{soap_rate / json_rate:.2f} of mvne_json")
    report.figure("baseline: the adapter's SOAP calls alone, no database", raw_rate, "req/s", f"{REQUESTS} requests")
    report.figure("comparison: the same through the send job with mvne_json", json_rate, "req/s",
                  f"{REQUESTS} requests, no faults, no callbacks")
    report.figure("lost requests", lost, "", "must be 0")
    report.figure("duplicated requests", duplicated, "", "must be 0")


def _send_job(brand, actor, url: str, adapter: str, prefix: str, round_: int) -> float:
    from telora.core import clock
    from telora.provisioning import services
    from telora.provisioning.models import ProvisioningRequest

    services.configure_target(brand, adapter=adapter, url=url + ("/soap" if adapter == "hlr_soap" else ""),
                              callback_url="", secrets={"username": USER, "password": PASSWORD,
                                                        "api_key": "bench-key", "callback_secret": "s"},
                              actor=actor, at=clock.now())
    at = clock.now()
    for n in range(REQUESTS):
        services.create_request(brand, operation="create", payload=_line(prefix, n),
                                idempotency_key=f"bench-soap:{adapter}:{round_}:{n}", actor=actor, at=at)
    with Timer() as sent:
        later = at
        while ProvisioningRequest.objects.filter(brand=brand, state="queued").exists():
            services.send_due(at=later, limit=200, concurrency=1)
            later += dt.timedelta(hours=2)  # the faulted ones' backoff has passed
    return REQUESTS / sent.seconds


def _adapter_alone(url: str, prefix: str, round_: int) -> float:
    from telora.provisioning.adapters import get_adapter

    adapter = get_adapter("hlr_soap")
    target = SimpleNamespace(url=url + "/soap", timeout_seconds=10, name="bench")
    credentials = {"username": USER, "password": PASSWORD}
    with Timer() as raw:
        for n in range(REQUESTS):
            request = SimpleNamespace(target=target, operation="create", payload=_line(prefix, n),
                                      idempotency_key=f"raw-soap:{round_}:{n}")
            outcome = adapter.send(request, credentials)
            assert outcome.kind == "completed", outcome
    return REQUESTS / raw.seconds
