"""`telora invoices export --run ID --format csv|json [--output FILE]`: a run's invoices as a flat
file (CSV one row per line, JSON one document per invoice), written by telora.billing.documents.flat."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Export a bill run's invoices as CSV (one row per line) or JSON (one document per invoice)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        exp = sub.add_parser("export", help="write a run's invoices to a flat file")
        exp.add_argument("--run", required=True, type=int, help="bill run id")
        exp.add_argument("--format", required=True, choices=("csv", "json"))
        exp.add_argument("--output", default="-", help="file to write (default: standard output)")

    def handle(self, *args, action, run, format, output, **options):
        from telora.billing.documents import flat
        from telora.billing.models import BillRun, Invoice

        found = BillRun.objects.filter(pk=run).first()
        if found is None:
            raise CommandError(f"no bill run {run}")
        documents = (doc for doc in Invoice.objects.filter(run=found).order_by("id")
                     .values_list("document", flat=True).iterator())
        write = flat.write_csv if format == "csv" else flat.write_json
        if output == "-":
            count = write(documents, _Raw(self.stdout))
        else:
            with open(output, "w", encoding="utf-8", newline="") as stream:
                count = write(documents, stream)
        what = "lines" if format == "csv" else "invoices"
        sys.stderr.write(f"run {found.pk}: {count} {what} exported\n")


class _Raw:
    """Django's OutputWrapper ends every write with a newline; the writers write their own."""

    def __init__(self, out):
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text, ending="")
