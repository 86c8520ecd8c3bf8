"""`telora portsim`: the national porting clearing house simulator (HTTPS/JSON with signed callbacks)."""

import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the number-porting clearing-house simulator: donors per number pattern, port-out requests, signed callbacks."

    def add_arguments(self, parser):
        parser.add_argument("args", nargs="*", help="passed on: --host, --port, --dir, --api-key, --secret, "
                                                    "--latency, --window-time, --callback-url, --rules (see telora portsim -- -h)")

    def run_from_argv(self, argv):
        from telora.porting.portsim import main

        main(argv[2:])  # the simulator's own options, unparsed by Django

    def handle(self, *args, **options):  # pragma: no cover - run_from_argv handles it
        from telora.porting.portsim import main

        main(list(args) or sys.argv[2:])
