"""`telora migrate import` end to end: a real process, a progress bar, real exit codes."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from telora.customers.models import Customer, Subscription
from telora.migration.models import MigrationRun

from .conftest import SAMPLE


def telora(*args):
    s = connection.settings_dict
    url = f"postgresql://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    return subprocess.run([sys.executable, "-m", "telora.cli", "migrate", "import", *args], capture_output=True,
                          text=True, env={**os.environ, "DATABASE_URL": url}, timeout=300)


@pytest.mark.django_db(transaction=True)
def test_the_sample_base_imports_and_bad_rows_exit_non_zero(nordlink, tmp_path):
    dry = telora(str(SAMPLE), "--brand", "nordlink", "--dry-run", "--quiet")
    assert dry.returncode == 0, dry.stderr
    assert "dry run: would import 63 rows" in dry.stdout and Customer.objects.count() == 0

    done = telora(str(SAMPLE), "--brand", "nordlink")
    assert done.returncode == 0, done.stderr
    assert "subscriptions.csv: imported (14 imported, 0 already imported, 0 bad)" in done.stdout
    assert Subscription.objects.filter(brand=nordlink).count() == 14

    bad = tmp_path / "customers.csv"
    bad.write_text("source_id,kind,last_name\nN1,private,Holm\nN2,alien,Holm\n")
    result = telora(str(bad), "--brand", "nordlink", "--quiet")
    assert result.returncode == 1
    assert "customers.csv:3: kind: 'alien' is not one of private, business" in result.stdout.splitlines()
    assert result.stderr.strip().splitlines() == [
        f"telora migrate: 1 bad row(s); customers.csv was refused; files from there on were not imported "
        f"(migration run #{MigrationRun.objects.order_by('-id').first().pk})"]
    assert Customer.objects.count() == 9

    unknown = telora(str(SAMPLE), "--brand", "nowhere")
    assert unknown.returncode == 1 and unknown.stderr.strip().splitlines()[-1].endswith("unknown brand 'nowhere'")
