"""`telora provisioning sequencing export|apply`: a brand's provisioning sequencing as code.

apply FILE --brand CODE [--dry-run]: check the whole file (every error printed as `path (line N): reason`,
exit code 1, nothing stored), then store it for the target the file names; --dry-run prints what would
change and changes nothing.
export --brand CODE [--target CODE] [-o FILE]: write the brand's sequencing (the shipped default when it
has none yet).
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
    help = "Provisioning configuration as code: sequencing export|apply."

    def add_arguments(self, parser):
        topics = parser.add_subparsers(dest="topic", required=True, metavar="sequencing")
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

    def handle(self, *args, topic, action, **options):
        if action == "apply":
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
