"""`telora collect [--brand B] [--source S] [--once] [--interval SECONDS]`: the pull collector in the
foreground, scanning the enabled sources' inboxes every few seconds until Ctrl-C (the workers'
periodic task does the same once a minute)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor
from telora.rating.models import UsageSource
from telora.rating.services.collector import collect_all


class Command(BaseCommand):
    help = "Take complete files from the pull sources' inboxes, import them, archive them (or refuse them to errors)."

    def add_arguments(self, parser):
        parser.add_argument("--brand", help="only this brand's sources (brand code)")
        parser.add_argument("--source", help="only the source with this code")
        parser.add_argument("--once", action="store_true", help="one scan, then stop")
        parser.add_argument("--interval", type=float, default=5.0, metavar="SECONDS",
                            help="seconds between scans (default 5)")

    def handle(self, *args, brand=None, source=None, once=False, interval=5.0, **options):
        found = None
        if brand:
            found = Brand.objects.filter(code__iexact=brand).first()
            if found is None:
                raise CommandError(f"no brand {brand!r}")
        if interval <= 0:
            raise CommandError("--interval: must be more than 0 seconds")
        sources = UsageSource.objects.filter(enabled=True)
        if found is not None:
            sources = sources.filter(brand=found)
        if source:
            sources = sources.filter(code=source)
        if not sources.exists():
            raise CommandError("no enabled source to collect from" + (f" with code {source!r}" if source else "")
                               + (f" in {found.code}" if found else ""))
        actor = Actor.system("collect")
        try:
            while True:
                failed = self._scan(actor, found, source)
                if once:
                    if failed:
                        raise CommandError("; ".join(failed))
                    return
                time.sleep(interval)
        except KeyboardInterrupt:
            self.stdout.write("collector stopped")

    def _scan(self, actor, brand, code) -> list[str]:
        failed = []
        for report in collect_all(actor=actor, at=clock.now(), brand=brand, code=code):
            for taken in report.taken:
                self.stdout.write(taken.line(report.source))
            if report.error:
                failed.append(f"{report.source.brand.code}/{report.source.code}: {report.error}")
                self.stderr.write(f"{report.source.brand.code}/{report.source.code}: {report.error}")
        return failed
