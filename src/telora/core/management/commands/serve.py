"""`telora serve`: the web server (gunicorn), and with --with-worker a job worker beside it.

Both run as child processes; Ctrl-C or SIGTERM stops them cleanly, then this process exits
(and stops the embedded PostgreSQL if it started it).
"""

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the Telora web server (and optionally the job worker)."
    # `telora demo` hands over the simulators it started (already running): watched and stopped with the rest.
    stealth_options = ("companions",)

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("TELORA_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("TELORA_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("TELORA_WEB_WORKERS", "2")),
                            help="web worker processes (default 2)")
        parser.add_argument("--threads", type=int, default=int(os.environ.get("TELORA_WEB_THREADS", "4")),
                            help="threads per web worker (default 4)")
        parser.add_argument("--with-worker", action="store_true", help="also run a background job worker")

    def handle(self, *args, host, port, workers, threads, with_worker, companions=(), **options):
        commands = [[
            sys.executable, "-m", "gunicorn", "telora.wsgi:application", "-c", "python:telora.core.gunicorn_conf",
            "--bind", f"{host}:{port}", "--workers", str(workers), "--threads", str(threads),
            "--graceful-timeout", "5", "--access-logfile", "-", "--log-level", "warning",
        ]]
        if with_worker:
            commands.append([sys.executable, "-m", "telora.cli", "worker"])
        children = [*companions, *(subprocess.Popen(cmd) for cmd in commands)]
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(f"Telora is serving on http://{host}:{port}/  (Ctrl-C stops)")
        try:
            while not stopping:
                if any(child.poll() is not None for child in children):
                    break
                time.sleep(0.3)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, -signal.SIGINT)]
        if failed and not stopping:
            raise CommandError(f"a server process exited with code {failed[0].returncode}")
        self.stdout.write("Telora stopped.")
