"""`telora worker`: run a Procrastinate worker for Telora's background jobs and periodic tasks."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run a background job worker (any number may run, on any machine sharing the database)."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=2, help="jobs run at once in this worker (default 2)")
        parser.add_argument("--queue", action="append", dest="queues", default=None,
                            help="listen only to this queue (repeatable; default all queues)")
        parser.add_argument("--name", default=None, help="worker name shown in job records")
        parser.add_argument("--one-shot", action="store_true",
                            help="run the jobs waiting now, then exit (for cron or a quick catch-up)")

    def handle(self, *args, concurrency, queues, name, one_shot, **options):
        argv = ["worker", f"--concurrency={concurrency}"]
        if one_shot:
            argv.append("--one-shot")
        if queues:
            argv.append("--queues=" + ",".join(queues))
        if name:
            argv.append(f"--name={name}")
        self.stdout.write(f"Telora worker: concurrency {concurrency}, queues {', '.join(queues or ['all'])}")
        call_command("procrastinate", *argv)
