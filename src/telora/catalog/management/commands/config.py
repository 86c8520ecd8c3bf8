"""`telora config apply|export`: the catalogue as code.

apply FILE [--check] [--effective-from DATE]: validate the whole file, then apply all of it or
nothing; every error is printed as `path: reason` and the exit code is 1.
export --brand CODE [-o FILE] [--at DATE]: write the catalogue in effect on a date.
"""

import datetime as dt
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from telora.catalog import yamlio
from telora.catalog.export import export_yaml
from telora.catalog.schema.errors import CatalogError
from telora.catalog.services.apply import apply_catalog
from telora.core import clock
from telora.core.models import Brand
from telora.core.services import Actor, ServiceError


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date: {value!r} (write YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Apply a catalogue YAML file to a brand, or export a brand's catalogue as YAML."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="apply|export")
        apply = sub.add_parser("apply", help="apply a catalogue file (all or nothing)")
        apply.add_argument("file", help="the YAML file, or - for standard input")
        apply.add_argument("--check", action="store_true", help="dry run: print what would change, change nothing")
        apply.add_argument("--effective-from", metavar="YYYY-MM-DD",
                           help="the date new prices and rates start (default: today in the brand's timezone)")
        export = sub.add_parser("export", help="write a brand's catalogue as YAML")
        export.add_argument("--brand", required=True, help="brand code")
        export.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
        export.add_argument("--at", metavar="YYYY-MM-DD", help="the date to export (default: today)")

    def handle(self, *args, action, **options):
        if action == "apply":
            self.apply(options["file"], check=options["check"], effective_from=options["effective_from"])
        else:
            self.export(options["brand"], output=options["output"], at=options["at"])

    def apply(self, file: str, *, check: bool, effective_from: str | None):
        day = _date(effective_from) if effective_from else None
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror or exc}") from None
        try:
            data = yamlio.load(text)
        except yamlio.YamlError as exc:
            raise CommandError(f"{file}: {exc}") from None
        try:
            result = apply_catalog(data, actor=Actor.system("config apply"), at=clock.now(), effective_from=day,
                                   check=check, source=Path(file).name)
        except CatalogError as exc:
            for line in exc.lines():
                self.stderr.write(line)
            count = len(exc.errors)
            raise CommandError(f"{file}: {count} error{'s' if count != 1 else ''}; nothing applied") from None
        except ServiceError as exc:
            raise CommandError(f"{file}: {exc.message}") from None
        for line in result.lines():
            self.stdout.write(f"  {line}")
        if check:
            self.stdout.write(f"check {result.brand} from {result.effective_from}: {result.summary()} "
                              "(dry run, nothing changed)")
        else:
            self.stdout.write(f"applied {result.brand} from {result.effective_from}: {result.summary()}")

    def export(self, code: str, *, output: str | None, at: str | None):
        brand = Brand.objects.filter(code=code).first()
        if brand is None:
            raise CommandError(f"--brand: unknown brand {code!r}")
        text = export_yaml(brand, _date(at) if at else clock.today(brand))
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"wrote {output}")
        else:
            self.stdout.write(text, ending="")
