"""`telora provisioning reconcile --brand B [--target network] [--export FILE.csv] [--csv OUT.csv]`:
compare the brand's live lines with the network's subscriber list (or the operator's export), with a
progress bar, and list the differences. Read-only: it proposes, it never fixes."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from telora.core.models import Brand


class Command(BaseCommand):
    help = "Provisioning: reconcile Telora's lines with the network (provisioning reconcile)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        reconcile = sub.add_parser("reconcile", help="list the differences between Telora's lines and the network's")
        reconcile.add_argument("--brand", required=True, help="brand code")
        reconcile.add_argument("--target", default="network", help="the brand's target code (default: network)")
        reconcile.add_argument("--export", help="the operator's export CSV (msisdn,imsi,iccid,barred,services) "
                                                "instead of asking the target")
        reconcile.add_argument("--csv", help="also write every difference to this CSV file")
        reconcile.add_argument("--show", type=int, default=200, help="differences printed (default 200)")

    def handle(self, *args, action, brand, target, export=None, csv=None, show=200, **options):
        from telora.provisioning.models import NetworkTarget
        from telora.provisioning.reconcile import ReconcileError, read_export, reconcile, write_csv

        found = Brand.objects.filter(code__iexact=brand).first()
        if found is None:
            raise CommandError(f"brand: no brand {brand!r}")
        network = NetworkTarget.objects.filter(brand=found, code=target).first()
        if network is None:
            raise CommandError(f"target: {found.code} has no target {target!r}")
        try:
            pages = read_export(export) if export else None
            report = self._run(reconcile, found, network, pages)
        except ReconcileError as exc:
            raise CommandError(str(exc)) from None
        counts = report.counts
        self.stdout.write(f"{found.code}/{network.code}: {report.telora_lines} live lines at Telora, "
                          f"{report.network_lines} at the {'export' if export else 'network'}; "
                          + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items()))
        for difference in report.differences[:max(show, 0)]:
            self.stdout.write(f"  {difference.kind:<18} {difference.msisdn:<16} {difference.detail}"
                              + (" (a request is on its way)" if difference.pending else ""))
        if len(report.differences) > show:
            self.stdout.write(f"  … {len(report.differences) - show} more" + (f" in {csv}" if csv else
                                                                                 " (--csv FILE lists them all)"))
        if csv:
            with open(csv, "w", newline="", encoding="utf-8") as out:
                write_csv(report, out)

    def _run(self, reconcile, brand, target, pages):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn(f"reconcile {brand.code}/{target.code}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), transient=True, disable=not self.stdout.isatty()) as bar:
            task = bar.add_task("reconcile", total=None)
            return reconcile(brand, target=target, pages=pages,
                             progress=lambda done, total: bar.update(task, completed=done, total=total))
