"""`telora demo`: migrate, load the demo brands and users, print the logins, and serve."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, load two demo brands with users (idempotent), print the logins, then serve with a worker."

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="load the demo data and exit")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, no_serve, host, port, **options):
        from telora.core.demo import load_demo

        call_command("migrate", interactive=False, verbosity=0)
        logins = load_demo()
        self.stdout.write(self.style.SUCCESS("Demo data loaded (brands: Nordlink Mobile, Bluewave Telecom)."))
        self.stdout.write("Demo logins (demo data only, never use these passwords in production):")
        for login in logins:
            self.stdout.write(f"  {login.username:<16} {login.password:<14} {login.description}")
        if not no_serve:
            call_command("serve", host=host, port=port, with_worker=True)
