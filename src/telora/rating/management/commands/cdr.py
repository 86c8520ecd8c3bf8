"""`telora cdr import FILE... --format F --source S --brand CODE [--now]`: take in usage files."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError
from telora.rating import formats
from telora.rating.models import RatingBatch, UsageFile


class Command(BaseCommand):
    help = "Import usage (CDR) files: staged per subscription partition, then rated by workers (or --now)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import usage files")
        imp.add_argument("files", nargs="+", metavar="FILE")
        imp.add_argument("--format", required=True, help=f"one of {', '.join(formats.names())}")
        imp.add_argument("--source", required=True, help="the source (switch, mediation feed) the files come from")
        imp.add_argument("--brand", required=True, help="brand code")
        imp.add_argument("--now", action="store_true", help="rate here and now instead of by the workers")

    def handle(self, *args, action, files, format, source, brand, now, **options):
        found = Brand.objects.filter(code__iexact=brand).first()
        if found is None:
            raise CommandError(f"no brand {brand!r}")
        if format not in formats.names():
            raise CommandError(f"unknown format {format!r} (known: {', '.join(formats.names())})")
        for name in files:
            if not Path(name).is_file():
                raise CommandError(f"{name}: no such file")
        actor = Actor.system("cdr import")
        for name in files:
            self._one(found, Path(name), format=format, source=source, actor=actor, now=now)

    def _one(self, brand, path: Path, *, format, source, actor, now):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from telora.rating.services import import_usage_file, rate_batch

        started = time.perf_counter()
        try:
            usage_file = import_usage_file(brand, path, format=format, source=source, actor=actor, at=clock.now(),
                                           defer=not now)
        except ServiceError as exc:
            raise CommandError(f"{path}: {exc}") from None
        if now:
            batches = list(RatingBatch.objects.filter(file=usage_file, status="pending").order_by("id")
                           .values_list("id", "records"))
            with Progress(TextColumn(f"rating {path.name}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=None, transient=True, disable=not self.stdout.isatty()) as progress:
                task = progress.add_task("rate", total=sum(n for _b, n in batches))
                for batch_id, records in batches:
                    rate_batch(batch_id)
                    progress.advance(task, records)
        usage_file = UsageFile.objects.get(pk=usage_file.pk)
        took = time.perf_counter() - started
        waiting = "" if usage_file.status == "rated" else ", rating queued for the workers"
        self.stdout.write(f"{path.name}: read {usage_file.read}, rated {usage_file.rated}, failed {usage_file.failed}, "
                          f"duplicate {usage_file.duplicate}, ignored {usage_file.ignored} in {took:.1f}s{waiting}")
