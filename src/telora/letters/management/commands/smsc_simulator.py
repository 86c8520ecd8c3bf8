"""`telora smsc-simulator`: the SMPP 3.4 SMS centre simulator for the demo and manual tests."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run an SMPP 3.4 SMSC simulator (bind, submit_sm, deliver_sm receipts, configurable faults)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2775)
        parser.add_argument("--password", default=None)
        parser.add_argument("--refuse", action="append", default=[])
        parser.add_argument("--undeliverable", action="append", default=[])
        parser.add_argument("--throttle-every", type=int, default=0)

    def handle(self, *args, **options):
        from telora.letters.smsc_simulator import main

        argv = ["--host", options["host"], "--port", str(options["port"]),
                "--throttle-every", str(options["throttle_every"])]
        if options["password"]:
            argv += ["--password", options["password"]]
        for prefix in options["refuse"]:
            argv += ["--refuse", prefix]
        for prefix in options["undeliverable"]:
            argv += ["--undeliverable", prefix]
        main(argv)
