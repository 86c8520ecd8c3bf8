"""`telora failed list|show|rerate|delete` and `telora rerate` end to end: tables and one-line
summaries, one-line errors with exit status 1."""

import os
import subprocess
import sys
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from rating_helpers import CDRS

from telora.core import clock
from telora.core.models import AuditEvent
from telora.rating.models import FailedRecord, RatedUsage
from telora.rating.services import import_usage_file, rate_pending
from telora.rating.services.rerate import register_billed_check, unregister_billed_check

pytestmark = pytest.mark.usefixtures("nord_kept")

D = Decimal


def telora(*args):
    s = connection.settings_dict
    url = f"postgresql://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    return subprocess.run([sys.executable, "-m", "telora.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": url}, timeout=120)


@pytest.fixture
def failed(nord, line_for, system):
    line_for("4520000001")
    import_usage_file(nord, CDRS, format="csv", source="nord-msc", actor=system, at=clock.now())
    rate_pending(nord)
    return {f.reason: f for f in FailedRecord.objects.filter(brand=nord)}


def run(capsys, *args):
    call_command(*args)
    return capsys.readouterr().out


@pytest.mark.django_db
def test_failed_list_filters_and_counts(failed, capsys):
    out = run(capsys, "failed", "list", "--brand", "nord")
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["id", "failed", "at"]
    assert len(lines) == 5 and lines[-1] == "3 of 3 failed records (open)"
    unknown = next(line for line in lines if "UNKNOWN_SUBSCRIBER" in line)
    assert unknown.split()[0] == str(failed["UNKNOWN_SUBSCRIBER"].pk)
    assert "nord-0010" in unknown and "4599999999" in unknown and "nord-msc" in unknown
    out = run(capsys, "failed", "list", "--brand", "NORD", "--reason", "PARSE_ERROR")
    assert out.splitlines()[-1] == "1 of 1 failed records (open)" and "nord-0011" in out
    out = run(capsys, "failed", "list", "--brand", "NORD", "--limit", "1")
    assert len(out.splitlines()) == 3 and out.splitlines()[-1] == "1 of 3 failed records (open)"
    out = run(capsys, "failed", "list", "--brand", "NORD", "--status", "deleted")
    assert out.splitlines()[-1] == "0 of 0 failed records (deleted)"
    out = run(capsys, "failed", "list", "--brand", "NORD", "--file", str(failed["DUPLICATE"].file_id + 1))
    assert out.splitlines()[-1] == "0 of 0 failed records (open)"
    with pytest.raises(CommandError, match="--reason: 'OOPS' is not one of"):
        call_command("failed", "list", "--brand", "NORD", "--reason", "OOPS")
    with pytest.raises(CommandError, match="no brand 'NOPE'"):
        call_command("failed", "list", "--brand", "NOPE")


@pytest.mark.django_db
def test_failed_show_gives_the_original(failed, capsys):
    out = run(capsys, "failed", "show", str(failed["UNKNOWN_SUBSCRIBER"].pk))
    assert "reason:     UNKNOWN_SUBSCRIBER" in out
    assert "  a_number: 4599999999" in out and "  duration: 60" in out and "  charge: null" in out
    assert "  start_time: 2026-10-05T07:15:00+00:00" in out
    out = run(capsys, "failed", "show", str(failed["PARSE_ERROR"].pk))
    assert "original text:" in out and "not-a-time" in out
    with pytest.raises(CommandError, match="no failed record 0"):
        call_command("failed", "show", "0")


@pytest.mark.django_db
def test_failed_rerate_by_reason_now(failed, line_for, capsys):
    sub = line_for("4599999999")
    out = run(capsys, "failed", "rerate", "--brand", "NORD", "--reason", "UNKNOWN_SUBSCRIBER", "--now")
    assert out.strip() == "NORD: 1 re-rated; rated 1, failed again 0"
    row = RatedUsage.objects.get(record_id="nord-0010")
    assert (row.subscription_id, row.charge) == (sub.pk, D("0.300000"))
    assert FailedRecord.objects.get(pk=failed["UNKNOWN_SUBSCRIBER"].pk).status == "rerated"
    out = run(capsys, "failed", "rerate", "--brand", "NORD", "--reason", "UNKNOWN_SUBSCRIBER")
    assert out.strip() == "NORD: no open failed records to re-rate"


@pytest.mark.django_db
def test_failed_rerate_by_ids_reports_skipped_and_queues(failed, capsys):
    ids = [str(f.pk) for f in failed.values()]
    out = run(capsys, "failed", "rerate", "--brand", "NORD", "--id", *ids, "--id", "999999")
    assert out.strip() == ("NORD: 1 re-rated, skipped 1 DUPLICATE, 1 PARSE_ERROR, not open in NORD: 999999; "
                           "rating queued for the workers")
    rate_pending(failed["DUPLICATE"].brand)
    assert FailedRecord.objects.filter(record_id="nord-0010", status="open").count() == 1  # failed again
    with pytest.raises(CommandError, match="--source: goes with --reason"):
        call_command("failed", "rerate", "--brand", "NORD", "--id", ids[0], "--source", "x")


@pytest.mark.django_db
def test_failed_delete_needs_yes_and_is_audited(failed, capsys):
    with pytest.raises(CommandError, match="1 failed records would be deleted: add --yes"):
        call_command("failed", "delete", "--brand", "NORD", "--reason", "PARSE_ERROR")
    assert not FailedRecord.objects.filter(status="deleted").exists()
    out = run(capsys, "failed", "delete", "--brand", "NORD", "--reason", "PARSE_ERROR", "--yes")
    assert out.strip() == "NORD: 1 failed records deleted"
    assert FailedRecord.objects.get(pk=failed["PARSE_ERROR"].pk).status == "deleted"
    assert AuditEvent.objects.get(action="delete_failed").actor_label == "job:failed delete"
    out = run(capsys, "failed", "delete", "--brand", "NORD", "--id", str(failed["DUPLICATE"].pk), "--yes")
    assert out.strip() == "NORD: 1 failed records deleted"


@pytest.mark.django_db
def test_rerate_by_number_now(nord, line_for, system, capsys):
    sub = line_for("4520000001")
    import_usage_file(nord, CDRS, format="csv", source="nord-msc", actor=system, at=clock.now())
    rate_pending(nord)
    before = set(RatedUsage.objects.filter(subscription_id=sub.pk).values_list("record_id", "charge"))
    out = run(capsys, "rerate", "--brand", "NORD", "--number", "+45 20000001", "--from", "2026-10-01",
              "--to", "2026-11-01", "--now")
    assert out.strip() == (f"mobile_postpaid 4520000001 (subscription {sub.pk}) 2026-10-01..2026-11-01: reversed 9 "
                           "records (41.472833 DKK); rated again 9, failed 0, 41.472833 DKK")
    assert set(RatedUsage.objects.filter(subscription_id=sub.pk).values_list("record_id", "charge")) == before
    # The days are Copenhagen days: 2026-10-06..2026-10-07 holds nord-0008 only (14:00 on the 6th).
    out = run(capsys, "rerate", "--brand", "NORD", "--subscription", str(sub.pk), "--from", "2026-10-06",
              "--to", "2026-10-07")
    assert "reversed 1 records (4.950000 DKK); rating queued for the workers" in out
    assert not RatedUsage.objects.filter(record_id="nord-0008").exists()
    call_command("rate", "--brand", "NORD")
    assert RatedUsage.objects.get(record_id="nord-0008").charge == D("4.950000")


@pytest.mark.django_db
@pytest.mark.parametrize("args, message", [
    (["--brand", "NOPE", "--subscription", "1"], "no brand 'NOPE'"),
    (["--brand", "NORD", "--subscription", "0"], "--subscription: no subscription 0 in NORD"),
    (["--brand", "NORD", "--number", "4511111111"], "--number: no subscription of NORD held 4511111111"),
])
def test_rerate_finds_its_subscription_or_says_why(nord, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("rerate", *args, "--from", "2026-10-01", "--to", "2026-11-01")


@pytest.mark.django_db
def test_rerate_refuses_bad_days_and_billed_periods(nord, line_for):
    sub = line_for("4520000001")
    with pytest.raises(CommandError, match="--to: 2026-10-01 is not after --from 2026-10-01"):
        call_command("rerate", "--brand", "NORD", "--subscription", str(sub.pk), "--from", "2026-10-01",
                     "--to", "2026-10-01")
    with pytest.raises(CommandError, match="--from: '2026-13-01' is not a date"):
        call_command("rerate", "--brand", "NORD", "--subscription", str(sub.pk), "--from", "2026-13-01",
                     "--to", "2026-10-01")

    def billed(subscription_id, since, until):
        return "bill run 7 is final"

    register_billed_check(billed)
    try:
        with pytest.raises(CommandError, match="is billed \\(bill run 7 is final\\)"):
            call_command("rerate", "--brand", "NORD", "--subscription", str(sub.pk), "--from", "2026-10-01",
                         "--to", "2026-11-01")
    finally:
        unregister_billed_check(billed)


@pytest.mark.django_db
def test_real_process_exit_status_and_help(db):
    result = telora("rerate", "--brand", "NOPE", "--number", "4520000001", "--from", "2026-10-01", "--to",
                    "2026-11-01")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["CommandError: no brand 'NOPE'"]
    result = telora("failed", "show", "0")
    assert result.returncode == 1 and result.stderr.strip() == "CommandError: no failed record 0"
    result = telora("rerate", "--help")
    assert result.returncode == 0 and "exclusive" in result.stdout
    for action in ("list", "show", "rerate", "delete"):
        result = telora("failed", action, "--help")
        assert result.returncode == 0 and "usage:" in result.stdout
    result = telora("--help")
    assert "failed" in result.stdout and "rerate" in result.stdout
