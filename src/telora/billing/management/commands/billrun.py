"""`telora billrun --brand B --cycle C --period YYYY-MM [--group G] (--test | --production)`:
a bill run here and now, with a progress bar, then its summary."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError


class Command(BaseCommand):
    help = "Run billing for a cycle's period: a test run (drafts, no lasting effect) or a production run."

    def add_arguments(self, parser):
        parser.add_argument("--brand", required=True, help="brand code")
        parser.add_argument("--cycle", required=True, help="bill cycle code")
        parser.add_argument("--period", required=True, help="the period starting in this month (YYYY-MM)")
        parser.add_argument("--group", action="append", default=[], help="billing group code (repeatable; none: all)")
        kind = parser.add_mutually_exclusive_group(required=True)
        kind.add_argument("--test", action="store_true", help="draft invoices, nothing billed")
        kind.add_argument("--production", action="store_true", help="final invoices, numbers, ledger entries")

    def handle(self, *args, brand, cycle, period, group, test, production, **options):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from telora.billing.services import execute_run, start_run

        found = Brand.objects.filter(code__iexact=brand).first()
        if found is None:
            raise CommandError(f"no brand {brand!r}")
        actor = Actor.system("billrun")
        try:
            run = start_run(found, cycle, period, group, "production" if production else "test", actor=actor,
                            at=clock.now())
        except ServiceError as exc:
            raise CommandError(str(exc)) from None
        with Progress(TextColumn(f"bill run {run.pk}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      transient=True, disable=not self.stdout.isatty()) as bar:
            task = bar.add_task("bill", total=run.accounts_total)
            run = execute_run(run, progress=lambda done, total: bar.update(task, completed=done, total=total))
        s = run.summary
        self.stdout.write(f"run {run.pk} ({run.kind}) {run.period_start}–{run.period_end}: {s['accounts']} accounts, "
                          f"{s['invoices']} invoices ({s['credit_notes']} credit notes), net {s['net']}, "
                          f"tax {s['tax']}, total {s['total']} {found.currency}, parked {len(s['parked'])}, "
                          f"usage reconciled: {'yes' if s['reconciliation']['holds'] else 'NO'}")
        for parked in s["parked"]:
            self.stdout.write(f"  parked {parked['account']}: {parked['error']}")
        if s["parked"] or not s["reconciliation"]["holds"]:
            raise SystemExit(1)
