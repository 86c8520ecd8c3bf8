"""`telora prepaid renew [--brand B] [--date YYYY-MM-DD]`: take the prepaid renewals due on the day
(each brand's local today by default) here and now, with a progress bar, then the counts. The
hourly job does the same; running both is safe (a renewal is taken once)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError


class Command(BaseCommand):
    help = "Prepaid lines: renew the recurring fees due on a day from the balances (prepaid renew)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        renew = sub.add_parser("renew", help="take the renewals due on a day (default: each brand's today)")
        renew.add_argument("--brand", help="brand code (default: every active brand)")
        renew.add_argument("--date", help="the renewal day, YYYY-MM-DD, in the brand's time zone")

    def handle(self, *args, action, brand=None, date=None, **options):
        from telora.billing.services.renewals import renew_due

        day = None
        if date:
            try:
                day = dt.date.fromisoformat(date)
            except ValueError:
                raise CommandError(f"date: {date!r} is not YYYY-MM-DD") from None
        if brand:
            brands = list(Brand.objects.filter(code__iexact=brand))
            if not brands:
                raise CommandError(f"brand: no brand {brand!r}")
        else:
            brands = list(Brand.objects.filter(is_active=True).order_by("code"))
        actor, failed = Actor.system("prepaid-renew"), False
        for found in brands:
            try:
                counts = self._renew(renew_due, found, day, actor)
            except ServiceError as exc:
                if brand:
                    raise CommandError(str(exc)) from None
                self.stderr.write(f"{found.code}: {exc}")
                failed = True
                continue
            self.stdout.write(f"{found.code}: {counts['paid']} paid, {counts['negative']} paid into the grace "
                              f"(negative), {counts['late']} paid late, {counts['skipped']} skipped "
                              f"(balance too low)" + (f", {counts['failed']} failed (see the log)" if counts["failed"] else ""))
            failed = failed or bool(counts["failed"])
        if failed:
            raise SystemExit(1)

    def _renew(self, renew_due, brand, day, actor) -> dict:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn(f"renewals {brand.code}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      transient=True, disable=not self.stdout.isatty()) as bar:
            task = bar.add_task("renew", total=None)
            return renew_due(brand, day, actor=actor, at=clock.now(),
                             progress=lambda done, total: bar.update(task, completed=done, total=total))
