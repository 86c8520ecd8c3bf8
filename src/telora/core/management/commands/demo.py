"""`telora demo`: migrate, load the demo brands, users and their history, print the logins, and serve."""

import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from telora.core.demo import DEMO_COMPANIONS, DemoReport


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
        started = time.perf_counter()
        if not no_serve:  # the demo server's own address, for the simulators' callbacks (netsim's to provisioning)
            os.environ.setdefault("TELORA_DEMO_URL", f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}")
        companions = [] if no_serve else self._start_companions()
        try:
            self._load(started)
        except BaseException:
            _stop(companions)
            raise
        if not no_serve:
            call_command("serve", host=host, port=port, with_worker=True, companions=[p for p, _ in companions])

    def _start_companions(self) -> list:
        """The simulators of outside parties (mail, SMS), started first so that what the demo queues
        finds them up; their settings go to the server and worker through the environment."""
        started = []
        try:
            for make in DEMO_COMPANIONS:  # started together, then awaited: each takes seconds to start Django
                companion = make(settings.VAR_DIR)
                process = subprocess.Popen([sys.executable, "-m", "telora.cli", *companion.argv],
                                           stdout=subprocess.DEVNULL)
                started.append((process, companion))
            for process, companion in started:
                _wait_for_port(process, companion)
                os.environ.update(companion.env)
                self.stdout.write(f"  {companion.name} on 127.0.0.1:{companion.port}: {companion.description}")
        except BaseException:
            _stop(started)
            raise
        return started

    def _load(self, started: float) -> None:
        from telora.core.demo import load_demo

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


def _wait_for_port(process: subprocess.Popen, companion, seconds: float = 120) -> None:
    """A companion is ready when its port answers (starting Django takes a while on a busy machine)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"{companion.name} did not start (exit code {process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", companion.port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise CommandError(f"{companion.name} did not listen on port {companion.port} within {seconds:.0f}s")


def _stop(companions: list) -> None:
    for process, _companion in companions:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process, _companion in companions:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
