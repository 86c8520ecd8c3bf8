"""`telora migrate import DIR|FILE... --brand CODE [--dry-run] [--source NAME] [--chunk-rows N]`.

(`telora migration import ...` is the same command.) Every bad row is printed as
"file:line: field: reason"; the command exits 0 only when every file was good, else 1 with a
one-line reason on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from telora.core import clock
from telora.core.models import Brand
from telora.core.services import Actor, ServiceError
from telora.migration.services.base import entity_of


class _Bar:
    def __init__(self, progress: Progress, label: str):
        self.progress = progress
        self.task = progress.add_task(label, total=None)

    def set_total(self, total: int) -> None:
        self.progress.update(self.task, total=total)

    def advance(self, n: int = 1) -> None:
        self.progress.advance(self.task, n)


def _files(paths: list[str]) -> list[tuple[str, bytes]]:
    """The files named, a folder standing for its <entity>.csv and .jsonl files."""
    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir()
                            if p.is_file() and (entity_of(p.name) or p.suffix in (".jsonl", ".ndjson")))
            if not inside:
                raise CommandError(f"{path}: holds no customers.csv, accounts.csv, ... or .jsonl file")
            found += inside
        elif path.is_file():
            found.append(path)
        else:
            raise CommandError(f"{path}: no such file or folder")
    try:
        return [(p.name, p.read_bytes()) for p in found]
    except OSError as exc:
        raise CommandError(f"{exc.filename}: {exc.strerror}") from None


class Command(BaseCommand):
    help = "Move a customer base in from another BSS: import (or dry-run) CSV or JSON Lines files."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="import")
        imp = sub.add_parser("import", help="import a folder or files (see docs/migration.md)")
        imp.add_argument("paths", nargs="+", metavar="DIR|FILE")
        imp.add_argument("--brand", required=True, help="brand code")
        imp.add_argument("--dry-run", action="store_true", help="check every row, change nothing")
        imp.add_argument("--source", default="legacy", help="the old system's name (source ids are its own)")
        imp.add_argument("--chunk-rows", type=int, default=None,
                         help="commit large files in chunks of N rows, each with a checkpoint")
        imp.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args, action, paths, brand, dry_run, source, chunk_rows, quiet, **options):
        from telora.migration.services.runs import create_run, execute_run

        brand_obj = Brand.objects.filter(code=brand).first()
        if brand_obj is None:
            raise CommandError(f"--brand: unknown brand {brand!r}")
        files = _files(paths)
        actor = Actor.system("migrate-cli")
        console = Console(stderr=True)
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        try:
            run = create_run(brand_obj, actor=actor, at=clock.now(), source_system=source, dry_run=dry_run,
                             names=[name for name, _data in files])
            with Progress(*columns, console=console, disable=quiet, transient=True) as progress:
                bar = _Bar(progress, "checking rows" if dry_run else "importing rows")
                report = execute_run(run, files, actor=actor, progress=bar, chunk_rows=chunk_rows)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        for file in report.files:
            extra = f", resumed after line {file.resumed_after}" if file.resumed_after else ""
            self.stdout.write(f"{file.name}: {file.status} ({file.imported} {'to import' if dry_run else 'imported'}, "
                              f"{file.already} already imported, {file.bad} bad{extra})")
        for error in report.errors:
            self.stdout.write(str(error))
        if report.errors_not_listed:
            self.stdout.write(f"... and {report.errors_not_listed} more bad rows")
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"{report.summary()} (migration run #{run.pk})"))
            return
        self.stdout.flush()
        bad = len(report.errors) + report.errors_not_listed
        failed = next((f for f in report.files if f.status in ("refused", "failed")), None)
        where = f"; {failed.name} was {failed.status}" if failed is not None else ""
        sys.stderr.write(f"telora migrate: {bad} bad row(s){where}; "
                         f"{'nothing was changed' if dry_run else 'files from there on were not imported'} "
                         f"(migration run #{run.pk})\n")
        sys.exit(1)
