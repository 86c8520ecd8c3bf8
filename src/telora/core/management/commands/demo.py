"""`telora demo`: migrate, load the demo brands, users and their history, print the logins, and serve."""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand

from telora.core.demo import DemoReport


class ProgressReport(DemoReport):
    """A rich progress bar per loader step (on a terminal); every step's outcome as a line."""

    def __init__(self, command: BaseCommand):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.command = command
        self.tty = command.stdout.isatty()
        self.progress = Progress(TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=Console(file=command.stdout._out),
                                 disable=not self.tty)
        self.task = None
        self.started = 0.0

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        self._finish()
        return self.progress.__exit__(*exc)

    def _print(self, text: str) -> None:
        if self.tty:
            self.progress.console.print(text, highlight=False, markup=False)
        else:
            self.command.stdout.write(text)
            self.command.stdout.flush()

    def _finish(self) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None

    def step(self, label: str, total: int) -> None:
        self._finish()
        self.started = time.perf_counter()
        if not self.tty:
            self._print(f"  {label} ...")
        self.task = self.progress.add_task(label, total=max(total, 1))

    def advance(self, units: int = 1) -> None:
        if self.task is not None:
            self.progress.advance(self.task, units)

    def note(self, text: str) -> None:
        self._print(f"  {text} ({time.perf_counter() - self.started:.0f}s)")


class Command(BaseCommand):
    help = ("Migrate, load two demo brands with users, customers, three months of usage and bill runs "
            "(idempotent), print the logins, then serve with a worker.")

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="load the demo data and exit")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, no_serve, host, port, **options):
        from telora.core.demo import load_demo

        started = time.perf_counter()
        self.stdout.write("Migrating the database ...")
        self.stdout.flush()
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Loading the demo (the first time about a minute or two; again: seconds):")
        self.stdout.flush()
        with ProgressReport(self) as report:
            logins = load_demo(report)
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded in {time.perf_counter() - started:.0f}s "
                                             "(brands: Nordlink Mobile, Bluewave Telecom)."))
        self.stdout.write("Demo logins (demo data only, never use these passwords in production):")
        for login in logins:
            self.stdout.write(f"  {login.username:<16} {login.password:<14} {login.description}")
        if not no_serve:
            call_command("serve", host=host, port=port, with_worker=True)
