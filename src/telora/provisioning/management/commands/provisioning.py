"""`telora provisioning sequencing export|apply` and `telora provisioning reconcile`.

sequencing: a brand's provisioning sequencing as code.

apply FILE --brand CODE [--dry-run]: check the whole file (every error printed as `path (line N): reason`,
exit code 1, nothing stored), then store it for the target the file names; --dry-run prints what would
change and changes nothing.
export --brand CODE [--target CODE] [-o FILE]: write the brand's sequencing (the shipped default when it
has none yet).
reconcile --brand B [--target network] [--export FILE.csv] [--csv OUT.csv]: compare the brand's live lines
with the network's subscriber list (or the operator's export), with a progress bar, and list the
differences. Read-only: it proposes, it never fixes.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from telora.core import clock
from telora.core.models import Brand
from telora.core.services import Actor, ServiceError
from telora.provisioning.sequencing import SequencingError
from telora.provisioning.sequencing_services import apply_sequencing, export_sequencing


def _brand(code: str) -> Brand:
    brand = Brand.objects.filter(code=code).first()
    if brand is None:
        raise CommandError(f"--brand: unknown brand {code!r}")
    return brand


class Command(BaseCommand):
    help = "Provisioning as code and checks: sequencing export|apply, reconcile."

    def add_arguments(self, parser):
        topics = parser.add_subparsers(dest="topic", required=True, metavar="sequencing|reconcile")
        seq = topics.add_parser("sequencing", help="the network steps of each order operation, as YAML")
        actions = seq.add_subparsers(dest="action", required=True, metavar="apply|export")
        apply = actions.add_parser("apply", help="check and store a sequencing file (all or nothing)")
        apply.add_argument("file", help="the YAML file, or - for standard input")
        apply.add_argument("--brand", required=True, help="brand code")
        apply.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
        export = actions.add_parser("export", help="write a brand's sequencing as YAML")
        export.add_argument("--brand", required=True, help="brand code")
        export.add_argument("--target", default="network", help="the network target's code (default: network)")
        export.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
        reconcile = topics.add_parser("reconcile", help="list the differences between Telora's lines and the network's")
        reconcile.add_argument("--brand", required=True, help="brand code")
        reconcile.add_argument("--target", default="network", help="the brand's target code (default: network)")
        reconcile.add_argument("--export", help="the operator's export CSV (msisdn,imsi,iccid,barred,services) "
                                                "instead of asking the target")
        reconcile.add_argument("--csv", help="also write every difference to this CSV file")
        reconcile.add_argument("--show", type=int, default=200, help="differences printed (default 200)")

    def handle(self, *args, topic, action=None, **options):
        if topic == "reconcile":
            self.reconcile(options["brand"], options["target"], export=options.get("export"),
                           csv=options.get("csv"), show=options.get("show", 200))
        elif action == "apply":
            self.apply(options["file"], brand=_brand(options["brand"]), dry_run=options["dry_run"])
        else:
            self.export(_brand(options["brand"]), target=options["target"], output=options["output"])

    def apply(self, file: str, *, brand: Brand, dry_run: bool):
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror or exc}") from None
        try:
            result = apply_sequencing(brand, text, actor=Actor.system("provisioning sequencing apply"),
                                      at=clock.now(), dry_run=dry_run, source=Path(file).name)
        except SequencingError as exc:
            for line in exc.lines():
                self.stderr.write(f"{file}: {line}")
            count = len(exc.errors)
            raise CommandError(f"{file}: {count} error{'s' if count != 1 else ''}; nothing applied") from None
        except ServiceError as exc:
            raise CommandError(f"{file}: {exc.message}") from None
        for line in result.lines():
            self.stdout.write(f"  {line}")
        if dry_run:
            self.stdout.write(f"dry run {result.brand}/{result.target}: {result.summary()} (nothing changed)")
        else:
            self.stdout.write(f"applied {result.brand}/{result.target} (version {result.version}): "
                              f"{result.summary()}")

    def export(self, brand: Brand, *, target: str, output: str | None):
        text = export_sequencing(brand, target)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"wrote {output}")
        else:
            self.stdout.write(text, ending="")

    def reconcile(self, brand: str, target: str, *, export: str | None, csv: str | None, show: int):
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
            report = self._run_reconcile(reconcile, found, network, pages)
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

    def _run_reconcile(self, reconcile, brand, target, pages):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn(f"reconcile {brand.code}/{target.code}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), transient=True, disable=not self.stdout.isatty()) as bar:
            task = bar.add_task("reconcile", total=None)
            return reconcile(brand, target=target, pages=pages,
                             progress=lambda done, total: bar.update(task, completed=done, total=total))
