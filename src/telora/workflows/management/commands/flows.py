"""`telora flows load DIR [--brand CODE]`: publish every <key>.bpmn of a folder (validated; an unchanged
document is not published again). `telora flows doc [--out DIR]`: the steps table of every published flow
in docs/flows/<key>.md. `telora flows wake`: fire due timers and retries now (what the periodic job does)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError
from telora.workflows.docs import write_flow_docs
from telora.workflows.services import load_flows, wake_due


class Command(BaseCommand):
    help = "Load BPMN flows from a folder, write the flow documentation, or fire due timers."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="publish every <key>.bpmn of a folder")
        load.add_argument("folder")
        load.add_argument("--brand", help="a brand's own flows (default: the installation's standard flows)")
        doc = sub.add_parser("doc", help="write docs/flows/<key>.md for every published flow")
        doc.add_argument("--out", help="folder (default: docs/flows of the source tree)")
        sub.add_parser("wake", help="fire due timers and retries now")

    def handle(self, *args, action, **options):
        actor, at = Actor.system("flows"), clock.now()
        if action == "load":
            folder = Path(options["folder"])
            if not folder.is_dir():
                raise CommandError(f"folder: {folder} is not a directory")
            brand = None
            if options.get("brand"):
                brand = Brand.objects.filter(code=options["brand"]).first()
                if brand is None:
                    raise CommandError(f"brand: no brand {options['brand']!r}")
            try:
                versions = load_flows(folder, brand=brand, actor=actor, at=at)
            except ServiceError as exc:
                raise CommandError(str(exc)) from None
            for version in versions:
                self.stdout.write(f"{version.definition.key}: version {version.number} published")
        elif action == "doc":
            out = Path(options.get("out") or Path(settings.BASE_DIR).parent.parent / "docs" / "flows")
            for path in write_flow_docs(out):
                self.stdout.write(f"wrote {path}")
        else:
            self.stdout.write(f"{wake_due(at=at)} instance(s) woken")
