"""Demo bill runs: the periods of the demo's usage history billed in production, and a test run of
the current period, per bill cycle of each demo brand.

Appended to `telora.core.demo.DEMO_LOADERS` after the usage loader (so every period is rated
before it is billed). The runs go through the billing services as `telora billrun` does; a
production run happens, as it would have, the morning after its period (its issue date and ledger
entries are of that day), in date order over the cycles so invoice numbers follow the issue dates.
Prepaid lines' fees are not the runs': the usage loader's monthly top-ups on the 1st renew them
(services.renewals, through the top-up hook), before the month's usage is rated. A run done before is left as it is (a run stopped half-way is executed again), so
loading twice changes nothing.
"""

from __future__ import annotations

import datetime as dt

from telora.billing.models import BillRun, Invoice
from telora.billing.services import execute_run, start_run
from telora.billing.services.snapshot import moment, period_of
from telora.catalog.models import BillCycle
from telora.core import clock
from telora.core.demo import DemoReport
from telora.core.models import Brand
from telora.core.services.actors import Actor
from telora.rating.demo import BRANDS, first_month

MORNING = dt.timedelta(hours=6)  # production runs start at 06:00 the day after the period


def planned_runs(brand: Brand) -> list[tuple[dt.datetime, BillCycle, tuple[dt.date, dt.date], str]]:
    """(when, cycle, period, kind) of the demo's runs in date order: production for every period
    that ended and overlaps the usage history, a test run for the period under way."""
    now, today, since = clock.now(), clock.today(brand), first_month(brand)
    runs = []
    for cycle in BillCycle.objects.filter(brand=brand).order_by("code"):
        year, month = since.year, since.month - 1  # the period starting in the month before may overlap
        while True:
            if month == 0:
                year, month = year - 1, 12
            start, end = period_of(cycle, f"{year:04d}-{month:02d}")
            if start > today:
                break
            if end > since:
                if end <= today:
                    runs.append((min(moment(end, brand) + MORNING, now), cycle, (start, end), "production"))
                else:
                    runs.append((now, cycle, (start, end), "test"))
            year, month = year + (month == 12), month % 12 + 1
    return sorted(runs, key=lambda run: (run[0], run[3] == "test", run[1].code))


def load_billing_demo(actor: Actor, report: DemoReport) -> None:
    for code in BRANDS:
        brand = Brand.objects.filter(code=code).first()
        if brand is None:
            continue
        runs = planned_runs(brand)
        report.step(f"{code}: bill runs", len(runs))
        for at, cycle, period, kind in runs:
            run = BillRun.objects.filter(brand=brand, cycle=cycle, period_start=period[0], kind=kind).first()
            if run is None:
                run = start_run(brand, cycle, period, (), kind, actor=actor, at=at)
            if run.status != "done":
                execute_run(run, at=run.created_at)
            report.advance()
        invoices = Invoice.objects.filter(brand=brand)
        report.note(f"{code}: {BillRun.objects.filter(brand=brand).count()} bill runs, "
                    f"{invoices.filter(status='final').count()} invoices issued, "
                    f"{invoices.filter(status='draft').count()} drafts in the test run")


def register() -> None:
    from telora.core.demo import DEMO_LOADERS

    if load_billing_demo not in DEMO_LOADERS:
        DEMO_LOADERS.append(load_billing_demo)
