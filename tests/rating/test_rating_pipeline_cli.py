"""`telora cdr import` and `telora rate`: a one-line summary, clear one-line errors."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rating_helpers import CDRS

from telora.rating.models import RatedUsage, RatingBatch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]


def test_cdr_import_now_prints_the_summary(nord, line_for, capsys):
    line_for("4520000001")
    call_command("cdr", "import", str(CDRS), "--format", "csv", "--source", "msc", "--brand", "nord", "--now")
    out = capsys.readouterr().out
    assert "cdrs.csv: read 12, rated 9, failed 2, duplicate 1, ignored 0" in out
    assert RatedUsage.objects.count() == 9


def test_cdr_import_queues_and_rate_runs_the_batches(nord, line_for, capsys):
    line_for("4520000001")
    line_for("4520000002")
    call_command("cdr", "import", str(CDRS), "--format", "csv", "--source", "msc", "--brand", "NORD")
    assert "rating queued for the workers" in capsys.readouterr().out
    assert RatingBatch.objects.filter(status="pending").exists()
    call_command("rate", "--brand", "NORD")
    assert "batches rated" in capsys.readouterr().out
    assert RatedUsage.objects.count() == 9


@pytest.mark.parametrize("args, message", [
    (["--brand", "NOPE", "--format", "csv"], "no brand 'NOPE'"),
    (["--brand", "NORD", "--format", "xml"], "unknown format 'xml'"),
])
def test_bad_brand_or_format(nord, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("cdr", "import", str(CDRS), "--source", "msc", *args)


def test_missing_file_and_duplicate_file(nord, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("cdr", "import", str(tmp_path / "x.csv"), "--source", "msc", "--brand", "NORD", "--format", "csv")
    call_command("cdr", "import", str(CDRS), "--source", "msc", "--brand", "NORD", "--format", "csv", "--now")
    with pytest.raises(CommandError, match="already imported"):
        call_command("cdr", "import", str(CDRS), "--source", "msc", "--brand", "NORD", "--format", "csv")
