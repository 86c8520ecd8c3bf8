"""`telora letters send|receipts|defaults|deliver`: the outbox from the command line."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from telora.core import clock
from telora.core.models import Brand
from telora.core.services import Actor, ServiceError

ACTOR = Actor.system("cli:letters")


class Command(BaseCommand):
    help = ("send: send the due e-mails and SMS now; receipts: collect SMS delivery receipts; "
            "defaults --brand CODE: add the default templates and triggers; deliver --run ID: send a "
            "production run's invoices by each account's choice")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["send", "receipts", "defaults", "deliver"])
        parser.add_argument("--brand", help="brand code (defaults)")
        parser.add_argument("--run", type=int, help="bill run id (deliver)")
        parser.add_argument("--seconds", type=float, default=5.0, help="how long to wait for receipts")

    def handle(self, *args, action, brand=None, run=None, seconds=5.0, **options):
        from telora.letters.services.outbox import collect_receipts, send_due

        try:
            if action == "send":
                for channel in ("email", "sms"):
                    self.stdout.write(f"{channel}: {send_due(channel)}")
            elif action == "receipts":
                self.stdout.write(f"{collect_receipts(seconds)} letters updated")
            elif action == "defaults":
                from telora.letters.services.defaults import install_defaults

                found = Brand.objects.filter(code=brand or "").first()
                if found is None:
                    raise CommandError(f"--brand: no brand {brand!r}")
                self.stdout.write(f"{install_defaults(found, actor=ACTOR, at=clock.now())} templates and triggers added")
            else:
                from telora.billing.models import BillRun
                from telora.letters.services.invoices import deliver_run

                found = BillRun.objects.select_related("brand").filter(pk=run or 0).first()
                if found is None:
                    raise CommandError(f"--run: no bill run {run}")
                result = deliver_run(found, actor=ACTOR, at=clock.now())
                self.stdout.write(f"{result['letters']} letters, {len(result['failed'])} failed")
                for number, reason in result["failed"]:
                    self.stdout.write(f"  {number}: {reason}")
        except ServiceError as exc:
            raise CommandError(exc.message) from None
