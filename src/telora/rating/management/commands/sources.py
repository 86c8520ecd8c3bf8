"""`telora sources add|list|enable|disable|remove`: the pull sources the collector takes files from."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError
from telora.rating import formats
from telora.rating.models import UsageSource
from telora.rating.services.collector import create_source, delete_source, update_source


class Command(BaseCommand):
    help = "Manage the pull sources (inbox folders) of the collector."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a source")
        add.add_argument("--brand", required=True, help="brand code")
        add.add_argument("--code", required=True, help="the source's name (the `source` of its files)")
        add.add_argument("--format", required=True, help=f"one of {', '.join(formats.names())}")
        add.add_argument("--inbox", required=True, metavar="DIR", help="absolute path of the inbox folder")
        add.add_argument("--archive", default="", metavar="DIR", help="default: 'archive' next to the inbox")
        add.add_argument("--errors", default="", metavar="DIR", help="default: 'errors' next to the inbox")
        add.add_argument("--settle", type=int, default=10, metavar="N",
                         help="seconds a file must be left unchanged before it is taken (default 10)")
        add.add_argument("--pattern", default="*", metavar="GLOB", help="file names to take (default *)")
        add.add_argument("--max-charge", default=None, metavar="AMOUNT",
                         help="the most a pre-priced record may cost (default TELORA_USAGE_MAX_CHARGE)")
        listing = sub.add_parser("list", help="list the sources")
        listing.add_argument("--brand", help="brand code")
        for name, text in (("enable", "let the collector take the source's files"),
                           ("disable", "stop taking the source's files"), ("remove", "remove the source")):
            one = sub.add_parser(name, help=text)
            one.add_argument("--brand", required=True, help="brand code")
            one.add_argument("--code", required=True, help="the source's name")

    def handle(self, *args, action, **options):
        actor = Actor.system("sources")
        brand = self._brand(options["brand"]) if options.get("brand") else None
        try:
            if action == "add":
                source = create_source(brand, actor=actor, at=clock.now(), code=options["code"],
                                       format=options["format"], inbox=options["inbox"], archive=options["archive"],
                                       errors=options["errors"], settle_seconds=options["settle"],
                                       pattern=options["pattern"], max_charge=options["max_charge"])
                self.stdout.write(f"{brand.code}/{source.code}: {source.format} from {source.inbox} "
                                  f"(archive {source.archive}, errors {source.errors})")
            elif action == "list":
                self._list(brand)
            else:
                source = UsageSource.objects.filter(brand=brand, code=options["code"]).first()
                if source is None:
                    raise CommandError(f"{brand.code} has no source {options['code']!r}")
                if action == "remove":
                    delete_source(source, actor=actor, at=clock.now())
                    self.stdout.write(f"{brand.code}/{options['code']}: removed (its folders are left as they are)")
                else:
                    update_source(source, actor=actor, at=clock.now(), enabled=action == "enable")
                    self.stdout.write(f"{brand.code}/{source.code}: {action}d")
        except ServiceError as exc:
            raise CommandError(exc.message) from None

    def _brand(self, code: str) -> Brand:
        found = Brand.objects.filter(code__iexact=code).first()
        if found is None:
            raise CommandError(f"no brand {code!r}")
        return found

    def _list(self, brand) -> None:
        sources = UsageSource.objects.select_related("brand").order_by("brand__code", "code")
        if brand is not None:
            sources = sources.filter(brand=brand)
        if not sources:
            self.stdout.write("no sources")
            return
        for s in sources:
            state = "enabled" if s.enabled else "disabled"
            scanned = f"last scan {s.last_scan_at:%Y-%m-%d %H:%M:%S}" if s.last_scan_at else "never scanned"
            self.stdout.write(f"{s.brand.code}/{s.code}  {s.format}  {state}  {s.inbox}  pattern {s.pattern}  "
                              f"settle {s.settle_seconds}s  {scanned}")
            if s.last_error:
                self.stdout.write(f"    last error: {s.last_error}")
