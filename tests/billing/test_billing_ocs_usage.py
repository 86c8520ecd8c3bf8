"""Usage of a pre-rated (OCS) source on a postpaid line is billed by the bill run like rated
usage: per service and zone, at the charges the OCS gave, each record once."""

from decimal import Decimal as D

import pytest
import time_machine
from billing_helpers import cph

from telora.billing.models import Invoice
from telora.billing.services import execute_run, start_run
from telora.core import clock
from telora.rating.services import import_usage_file, rate_pending
from telora.rating.services.sources import create_source

pytestmark = pytest.mark.usefixtures("nord_kept")

HEADER = b"record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"


@pytest.mark.django_db
def test_a_bill_run_bills_ocs_usage_at_its_charges(nord, system, account_for, subscribe, tmp_path):
    account = account_for("Olga Ocs")
    post = subscribe(account, "2026-03-01")
    number = post.identifier.encode()
    create_source(nord, actor=system, at=clock.now(), code="ocs", format="csv", inbox=str(tmp_path / "in"),
                  pre_rated=True)
    data = (HEADER
            + b"o-1,voice," + number + b",4533123456,2026-03-05T10:00:00+01:00,600,,,,1.234567\n"
            + b"o-2,voice," + number + b",4533123456,2026-03-06T10:00:00+01:00,60,,,,0.765433\n"
            + b"o-3,sms," + number + b",46812345678,2026-03-07T10:00:00+01:00,,,1,,0.50\n")
    for name in ("1.csv", "again.csv"):  # the second file repeats the records: duplicates, billed once
        import_usage_file(nord, data + (b"\n" if name == "again.csv" else b""), format="csv", source="ocs",
                          actor=system, at=clock.now(), name=name)
    rate_pending(nord)
    with time_machine.travel(cph("2026-04-02T06:00"), tick=False):
        run = execute_run(start_run(nord, "M01", "2026-03", (), "production", actor=system,
                                    at=cph("2026-04-02T06:00")), at=cph("2026-04-02T06:00"))
    invoice = Invoice.objects.get(run=run)
    usage = sorted((line.description, line.amount) for line in invoice.lines.all() if line.kind == "usage")
    assert usage == [("sms EU", D("0.50")), ("voice DK", D("2.00"))]
    assert run.summary["reconciliation"]["holds"]
    assert run.summary["reconciliation"]["usage_rated"] == "2.500000"
