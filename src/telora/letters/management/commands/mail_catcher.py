"""`telora mail-catcher`: a real SMTP server that keeps every mail it gets as an .eml file (the demo's)."""

import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Run an SMTP server (aiosmtpd) that accepts every mail and keeps it in a folder instead of "
            "delivering it; a letter's page shows its caught copy when TELORA_MAIL_CATCHER_DIR names that folder.")

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8025)
        parser.add_argument("--dir", default=None, help="the folder (default: TELORA_MAIL_CATCHER_DIR, else var/mail-catcher)")

    def handle(self, *args, host, port, dir, **options):
        import logging

        from telora.letters.mail_catcher import start

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO

        folder = Path(dir or settings.TELORA_MAIL_CATCHER_DIR or settings.VAR_DIR / "mail-catcher")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
        signal.signal(signal.SIGINT, lambda *a: stop.set())
        controller = start(host, port, folder)
        self.stdout.write(f"Mail catcher on {host}:{port}, keeping mail in {folder} (Ctrl-C stops)")
        self.stdout.flush()
        try:
            while not stop.wait(0.5):
                pass
        finally:
            controller.stop()
