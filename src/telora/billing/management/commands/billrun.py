"""`telora billrun --brand B --cycle C --period YYYY-MM [--group G] (--test | --production)`:
a bill run here and now, with a progress bar, then its summary.
`telora billrun --resume RUN_ID`: a failed or stopped run (its worker or command killed) executed
again here, billing only the accounts it had not billed yet."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError


class Command(BaseCommand):
    help = ("Run billing for a cycle's period: a test run (drafts, no lasting effect) or a production run; "
            "or resume a failed or stopped run (--resume RUN_ID).")

    def add_arguments(self, parser):
        parser.add_argument("--brand", help="brand code")
        parser.add_argument("--cycle", help="bill cycle code")
        parser.add_argument("--period", help="the period starting in this month (YYYY-MM)")
        parser.add_argument("--group", action="append", default=[], help="billing group code (repeatable; none: all)")
        kind = parser.add_mutually_exclusive_group()
        kind.add_argument("--test", action="store_true", help="draft invoices, nothing billed")
        kind.add_argument("--production", action="store_true", help="final invoices, numbers, ledger entries")
        kind.add_argument("--resume", type=int, metavar="RUN_ID",
                          help="execute a failed or stopped run again (no other option)")

    def handle(self, *args, brand, cycle, period, group, test, production, resume, **options):
        from telora.billing.models import BillRun
        from telora.billing.services import start_run
        from telora.billing.services.resume import executing, resume_run

        actor = Actor.system("billrun")
        if resume is not None:
            if brand or cycle or period or group:
                raise CommandError("--resume takes no --brand, --cycle, --period or --group: the run has them")
            run = BillRun.objects.select_related("brand").filter(pk=resume).first()
            if run is None:
                raise CommandError(f"run: no bill run {resume}")
            try:
                with executing(run.pk):
                    run = resume_run(run, actor=actor, at=clock.now(), queue=False)
                    run = self._execute(run)
            except ServiceError as exc:
                raise CommandError(str(exc)) from None
            return self._report(run)
        missing = [name for name, value in (("--brand", brand), ("--cycle", cycle), ("--period", period)) if not value]
        if missing or not (test or production):
            raise CommandError(f"{', '.join(missing + ([] if test or production else ['--test or --production']))} "
                               "required (or --resume RUN_ID)")
        found = Brand.objects.filter(code__iexact=brand).first()
        if found is None:
            raise CommandError(f"no brand {brand!r}")
        try:
            run = start_run(found, cycle, period, group, "production" if production else "test", actor=actor,
                            at=clock.now())
            with executing(run.pk):
                run = self._execute(run)
        except ServiceError as exc:
            raise CommandError(str(exc)) from None
        return self._report(run)

    def _execute(self, run):
        """Execute the run with a progress bar (on a terminal)."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from telora.billing.services import execute_run

        with Progress(TextColumn(f"bill run {run.pk}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      transient=True, disable=not self.stdout.isatty()) as bar:
            task = bar.add_task("bill", total=run.accounts_total, completed=run.accounts_done)
            return execute_run(run, progress=lambda done, total: bar.update(task, completed=done, total=total))

    def _report(self, run) -> None:
        s = run.summary
        self.stdout.write(f"run {run.pk} ({run.kind}) {run.period_start}–{run.period_end}: {s['accounts']} accounts, "
                          f"{s['invoices']} invoices ({s['credit_notes']} credit notes), net {s['net']}, "
                          f"tax {s['tax']}, total {s['total']} {run.brand.currency}, parked {len(s['parked'])}, "
                          f"usage reconciled: {'yes' if s['reconciliation']['holds'] else 'NO'}")
        late = s.get("late_usage") or {}
        late_holds = late.get("holds", True)
        if late.get("lines"):
            self.stdout.write(f"  late usage: {late['lines']} lines, {late['billed']} {run.brand.currency} "
                              f"(reconciled: {'yes' if late_holds else 'NO'})")
        for parked in s["parked"]:
            self.stdout.write(f"  parked {parked['account']}: {parked['error']}")
        if s["parked"] or not s["reconciliation"]["holds"] or not late_holds:
            raise SystemExit(1)
