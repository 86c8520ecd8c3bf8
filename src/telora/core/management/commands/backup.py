"""`telora backup [--output FILE]`: the database, the uploaded files and a manifest in one archive."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from telora.core import clock
from telora.core.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up this installation: database (pg_dump custom format), files under MEDIA_ROOT, manifest."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="archive to write (default: var/backups/telora-YYYYmmdd-HHMMSS.tar)")

    def handle(self, *args, output, **options):
        from rich.console import Console

        path = Path(output) if output else (
            Path(settings.VAR_DIR) / "backups" / f"telora-{clock.now():%Y%m%d-%H%M%S}.tar")
        console = Console(stderr=True)
        try:
            with console.status("backing up") as status:
                result = backup(path, progress=lambda step: (status.update(step), console.log(step)))
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        m = result.manifest
        self.stdout.write(f"{result.path}  database {m['database']['bytes']:,} bytes, "
                          f"{m['media']['files']} files ({m['media']['bytes']:,} bytes), keys: "
                          + ", ".join(f"{name} {k['fingerprint']} ({k['source']})"
                                      for name, k in m["sealing_keys"].items()))
