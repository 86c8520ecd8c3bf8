"""`telora config apply|export`: output, exit codes and errors, in process and as a real command."""

import os
import subprocess
import sys

import pytest
from catalog_helpers import DATA
from django.core.management import CommandError, call_command

from telora.catalog import models as m
from telora.core.models import Brand

REFERENCE = str(DATA / "catalog.yaml")


def run(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("config", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_apply_prints_each_change_and_a_summary(db):
    out, _ = run("apply", REFERENCE, "--effective-from", "2026-01-01")
    lines = out.splitlines()
    assert lines[0] == "  created brand NORD"
    assert "  created rate plan POST_STD" in lines
    assert lines[-1] == "applied NORD from 2026-01-01: 28 created, 0 updated, 0 closed"
    out, _ = run("apply", REFERENCE, "--effective-from", "2026-01-01")
    assert out == "applied NORD from 2026-01-01: no changes\n"


def test_check_changes_nothing(db):
    out, _ = run("apply", REFERENCE, "--check", "--effective-from", "2026-01-01")
    assert "  would be created zone DK" in out.splitlines()
    assert out.splitlines()[-1] == "check NORD from 2026-01-01: 28 created, 0 updated, 0 closed (dry run, nothing changed)"
    assert not Brand.objects.filter(code="NORD").exists()


def test_errors_go_to_stderr_with_their_paths_and_nothing_is_applied(db, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((DATA / "catalog.yaml").read_text().replace("rate_plan: PRE_STD", "rate_plan: X")
                   .replace('price: "0.49"', "price: 0.49"))
    with pytest.raises(CommandError, match="bad.yaml: 2 errors; nothing applied") as err:
        run("apply", str(bad))
    assert err.value.returncode == 1
    from io import StringIO

    stderr = StringIO()
    with pytest.raises(CommandError):
        call_command("config", "apply", str(bad), stdout=StringIO(), stderr=stderr)
    assert stderr.getvalue().splitlines() == [
        'rate_plans[1].rates[0].price: write the amount as a string in quotes ("0.49"): an unquoted decimal is a '
        "YAML float and not exact",
        "products[2].rate_plan: unknown rate plan 'X'",
    ]
    assert not m.Product.objects.exists()


@pytest.mark.parametrize("args, message", [
    (["apply", "/nonexistent.yaml"], "/nonexistent.yaml: No such file or directory"),
    (["apply", REFERENCE, "--effective-from", "01/01/2026"], "not a date: '01/01/2026'"),
    (["export", "--brand", "NOPE"], "--brand: unknown brand 'NOPE'"),
])
def test_bad_arguments_get_a_one_line_error(db, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_export_to_stdout_or_a_file(db, tmp_path):
    run("apply", REFERENCE, "--effective-from", "2026-01-01")
    out, _ = run("export", "--brand", "NORD", "--at", "2026-02-01")
    assert out.startswith("# Catalogue of brand NORD in effect on 2026-02-01")
    target = tmp_path / "nord.yaml"
    _, err = run("export", "--brand", "NORD", "--at", "2026-02-01", "-o", str(target))
    assert target.read_text() == out and err.strip() == f"wrote {target}"
    out, _ = run("export", "--brand", "NORD", "--at", "2025-12-31")
    assert "products: []" in out


def _database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    return f"postgresql://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def telora(*args):
    return subprocess.run([sys.executable, "-m", "telora.cli", "config", *args], capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": _database_url()}, timeout=120)


def test_the_telora_command_end_to_end(transactional_db, tmp_path):
    first = telora("apply", REFERENCE, "--effective-from", "2026-01-01")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[-1] == "applied NORD from 2026-01-01: 28 created, 0 updated, 0 closed"
    again = telora("apply", REFERENCE)
    assert (again.returncode, again.stdout.splitlines()[-1].endswith("no changes")) == (0, True)
    exported = tmp_path / "nord.yaml"
    export = telora("export", "--brand", "NORD", "-o", str(exported), "--at", "2026-01-01")
    assert export.returncode == 0, export.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(exported.read_text().replace("rate_plan: POST_STD", "rate_plan: X", 1))
    failed = telora("apply", str(bad))
    assert failed.returncode == 1
    assert "products[1].rate_plan: unknown rate plan 'X'" in failed.stderr.splitlines()
    assert "bad.yaml: 1 error; nothing applied" in failed.stderr
    assert telora("apply", "--help").returncode == 0
