"""`telora restore FILE`: a `telora backup` archive into an empty installation."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from telora.core.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a `telora backup` archive into this installation, which must be empty (new database, no files)."

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument("--ignore-key-mismatch", action="store_true",
                            help="restore although the SIM secrets were sealed with another key (they stay unreadable)")

    def handle(self, *args, archive, ignore_key_mismatch, **options):
        from rich.console import Console

        console = Console(stderr=True)
        try:
            with console.status("restoring") as status:
                manifest = restore(Path(archive), ignore_key_mismatch=ignore_key_mismatch,
                                   progress=lambda step: (status.update(step), console.log(step)))
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"restored the backup of {manifest['created_at']} (Telora {manifest['telora_version']}, "
                          f"{manifest['media']['files']} files)")
