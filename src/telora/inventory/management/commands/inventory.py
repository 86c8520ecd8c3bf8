"""`telora inventory import sims|numbers FILE --brand CODE` and `telora inventory stats --brand CODE`.

The import prints every bad row as "line N: field: reason" and a summary; it exits 0 only if
every row was good (imported or unchanged) and 1 otherwise, the good rows being imported anyway.
"""

import io
import sys

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from telora.core import clock
from telora.core.models import Brand
from telora.core.services import Actor, ServiceError


class _Bar:
    """The import's progress protocol (set_total/advance) shown as a rich progress bar on stderr."""

    def __init__(self, progress: Progress, label: str):
        self.progress = progress
        self.task = progress.add_task(label, total=None)

    def set_total(self, total: int) -> None:
        self.progress.update(self.task, total=total)

    def advance(self, n: int = 1) -> None:
        self.progress.advance(self.task, n)


class Command(BaseCommand):
    help = "SIM card and phone number inventory: import CSV files, show counts."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="import|stats")
        imp = sub.add_parser("import", help="import SIM cards or numbers from a CSV file (see docs/inventory.md)")
        imp.add_argument("what", choices=["sims", "numbers"])
        imp.add_argument("file", help="CSV file with a header line")
        imp.add_argument("--brand", required=True, help="brand code")
        imp.add_argument("--quiet", action="store_true", help="no progress bar")
        stats = sub.add_parser("stats", help="counts by status, free SIMs by type, free numbers by group")
        stats.add_argument("--brand", required=True, help="brand code")

    def handle(self, *args, action, brand, **options):
        brand_obj = Brand.objects.filter(code=brand).first()
        if brand_obj is None:
            raise CommandError(f"--brand: unknown brand {brand!r}")
        if action == "import":
            return self._import(brand_obj, options["what"], options["file"], quiet=options["quiet"])
        return self._stats(brand_obj)

    def _import(self, brand: Brand, what: str, path: str, *, quiet: bool) -> None:
        from telora.inventory.services import import_numbers, import_sims

        importer = import_sims if what == "sims" else import_numbers
        try:
            handle = open(path, "rb")  # closed by the with-block below
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from None
        console = Console(stderr=True)
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        try:
            with handle, Progress(*columns, console=console, disable=quiet, transient=True) as progress:
                bar = _Bar(progress, f"checking {what}")
                result = importer(brand, handle, actor=Actor.system("inventory-cli"), at=clock.now(),
                                  progress=bar)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        for error in result.errors:
            self.stdout.write(str(error))
        noun = "SIM cards" if what == "sims" else "phone numbers"
        line = f"{noun} from {result.batch.file_name}: {result.summary()} (import batch #{result.batch.pk})"
        if result.ok:
            self.stdout.write(self.style.SUCCESS(line))
            return
        self.stdout.write(self.style.WARNING(line))
        self.stdout.flush()
        sys.exit(1)

    def _stats(self, brand: Brand) -> None:
        from telora.inventory.selectors import inventory_stats

        stats = inventory_stats(brand, at=clock.now())
        buffer = io.StringIO()
        console = Console(file=buffer, highlight=False, width=100)
        for key, title, by in (("sims", "SIM cards", "free_by_type"), ("numbers", "Phone numbers", "free_by_group")):
            part = stats[key]
            console.print(f"{title} of {brand.code}: {part['total']} in all, {part['free']} free")
            table = Table()
            table.add_column("status")
            table.add_column("count", justify="right")
            for status, count in sorted(part["by_status"].items()):
                table.add_row(status, str(count))
            for name, count in part[by].items():
                table.add_row(f"free, {'type' if key == 'sims' else 'group'} {name or '(none)'}", str(count))
            console.print(table)
        self.stdout.write(buffer.getvalue(), ending="")
