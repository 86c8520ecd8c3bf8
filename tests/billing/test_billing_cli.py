"""`telora billrun` and `telora invoices export`: a one-line summary, clear errors, flat files."""

import csv
import io
import json

import pytest
import time_machine
from billing_helpers import cph
from django.core.management import call_command
from django.core.management.base import CommandError

from telora.billing.models import BillRun

pytestmark = pytest.mark.usefixtures("nord_kept")


def test_billrun_test_then_export(nord, account_for, subscribe, capsys):
    subscribe(account_for("Kunde Et"), "2026-03-11")
    with time_machine.travel(cph("2026-04-02T06:00"), tick=False):
        call_command("billrun", "--brand", "nord", "--cycle", "M01", "--period", "2026-03", "--test")
    out = capsys.readouterr().out
    run = BillRun.objects.get()
    assert (f"run {run.pk} (test) 2026-03-01–2026-04-01: 1 accounts, 1 invoices (0 credit notes), net 82.19, "
            "tax 20.55, total 102.74 DKK, parked 0, usage reconciled: yes") in out
    call_command("invoices", "export", "--run", str(run.pk), "--format", "json")
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["invoice"]["total"] for d in docs] == ["102.74"]
    call_command("invoices", "export", "--run", str(run.pk), "--format", "csv")
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 3  # the header and two lines


@pytest.mark.parametrize("args, message", [
    (["--brand", "NOPE", "--cycle", "M01", "--period", "2026-03", "--test"], "no brand 'NOPE'"),
    (["--brand", "NORD", "--cycle", "M99", "--period", "2026-03", "--test"], "cycle: no bill cycle 'M99'"),
    (["--brand", "NORD", "--cycle", "M01", "--period", "March", "--test"], "period: 'March' is not YYYY-MM"),
])
def test_billrun_errors(nord, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("billrun", *args)
