"""`telora netsim`: the host operator's provisioning API simulator (HTTPS/JSON with signed callbacks, and SOAP
at /soap)."""

import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the network (MVNE) provisioning simulator: subscriber database, latency, signed callbacks, faults."

    def add_arguments(self, parser):
        parser.add_argument("args", nargs="*", help="passed on: --host, --port, --dir, --api-key, --secret, "
                                                    "--latency, --timeout-delay, --faults, --soap-username, --soap-password "
                                                    "(see telora netsim -- -h)")

    def run_from_argv(self, argv):
        from telora.provisioning.netsim import main

        main(argv[2:])  # the simulator's own options, unparsed by Django

    def handle(self, *args, **options):  # pragma: no cover - run_from_argv handles it
        from telora.provisioning.netsim import main

        main(list(args) or sys.argv[2:])
