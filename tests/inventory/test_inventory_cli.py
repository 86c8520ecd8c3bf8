"""`telora inventory import|stats` end to end: a real process, real exit codes, every bad row printed."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from telora.inventory.models import ImportBatch, PhoneNumber, SimCard

from .factories import SIM_HEADER, make_iccid, make_number, sim_row


def telora(*args):
    s = connection.settings_dict
    url = f"postgresql://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    return subprocess.run([sys.executable, "-m", "telora.cli", "inventory", *args], capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": url}, timeout=120)


@pytest.mark.django_db(transaction=True)
def test_import_sims_exit_codes_and_report(brand_a, write_csv):
    good = write_csv("good.csv", SIM_HEADER, [sim_row(n) for n in range(1, 11)])
    result = telora("import", "sims", str(good), "--brand", "alpha")
    assert result.returncode == 0, result.stderr
    assert "read 10, imported 10, unchanged 0, failed 0" in result.stdout
    again = telora("import", "sims", str(good), "--brand", "alpha", "--quiet")
    assert again.returncode == 0 and "imported 0, unchanged 10" in again.stdout

    wrong = make_iccid(11)[:-1] + str((int(make_iccid(11)[-1]) + 1) % 10)
    mixed = write_csv("mixed.csv", SIM_HEADER, [sim_row(12), sim_row(11, iccid=wrong), sim_row(13, pin2="1")])
    result = telora("import", "sims", str(mixed), "--brand", "alpha")
    assert result.returncode == 1
    assert result.stdout.splitlines()[:2] == ["line 3: iccid: Luhn check digit is wrong",
                                              "line 4: pin2: must be 4 to 8 digits"]
    assert "read 3, imported 1, unchanged 0, failed 2" in result.stdout
    assert SimCard.objects.count() == 11  # the good row went in all the same
    assert ImportBatch.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_import_numbers_and_stats(brand_a, write_csv):
    path = write_csv("n.csv", ["number"], [[make_number(n)] for n in range(5)])
    assert telora("import", "numbers", str(path), "--brand", "alpha").returncode == 0
    assert PhoneNumber.objects.count() == 5
    stats = telora("stats", "--brand", "alpha")
    assert stats.returncode == 0, stats.stderr
    assert "Phone numbers of alpha: 5 in all, 5 free" in stats.stdout
    assert "SIM cards of alpha: 0 in all" in stats.stdout


@pytest.mark.django_db(transaction=True)
def test_one_line_errors(brand_a, write_csv, tmp_path):
    unknown = telora("stats", "--brand", "nope")
    assert unknown.returncode == 1 and "unknown brand 'nope'" in unknown.stderr
    missing = telora("import", "sims", str(tmp_path / "absent.csv"), "--brand", "alpha")
    assert missing.returncode == 1 and "No such file" in missing.stderr
    header = write_csv("h.csv", ["iccid"], [[make_iccid(1)]])
    bad = telora("import", "sims", str(header), "--brand", "alpha")
    assert bad.returncode == 1 and "the column 'imsi' is required" in bad.stderr
    usage = telora("import", "phones", "x.csv", "--brand", "alpha")
    assert usage.returncode != 0 and "invalid choice" in usage.stderr
