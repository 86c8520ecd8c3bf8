"""Migration runs: the record of one import (who, what files, the report), started from the API
as a job or run at once by the CLI."""

from __future__ import annotations

import datetime as dt

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.text import get_valid_filename

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.core.services.jobs import start_job
from telora.customers.services.common import require
from telora.migration.models import MigrationRun
from telora.migration.services.base import entity_of
from telora.migration.services.runner import check_source_system, run_import

MAX_FILES = 20


def _check_names(names: list[str]) -> None:
    if not names:
        raise ServiceError("files: give at least one file", field="files")
    if len(names) > MAX_FILES:
        raise ServiceError(f"files: at most {MAX_FILES} files a run", field="files")
    for name in names:
        if entity_of(name) is None and not name.lower().endswith((".jsonl", ".ndjson")):
            raise ServiceError(f"files: {name!r} is neither <entity>.csv nor a .jsonl file", field="files")


@transaction.atomic
def create_run(brand: Brand, *, actor: Actor, at: dt.datetime, source_system: str, dry_run: bool,
               names: list[str]) -> MigrationRun:
    require(actor, brand, "migration.import")
    run = MigrationRun.objects.create(brand=brand, source_system=check_source_system(source_system), dry_run=dry_run,
                                      created_at=at, created_by=actor.label[:200],
                                      files=[{"name": n} for n in names])
    record_event(actor=actor, at=at, action="create", obj=run, brand=brand,
                 new={"source_system": run.source_system, "dry_run": dry_run, "files": names})
    return run


def start_migration(brand: Brand, files, *, actor: Actor, at: dt.datetime, source_system: str = "legacy",
                    dry_run: bool = False) -> MigrationRun:
    """Keep the uploaded files (objects with .name and .read()) and start a job importing them."""
    names = [get_valid_filename(f.name.rsplit("/", 1)[-1]) for f in files]
    _check_names(names)
    with transaction.atomic():
        run = create_run(brand, actor=actor, at=at, source_system=source_system, dry_run=dry_run, names=names)
        kept = []
        for name, upload in zip(names, files, strict=True):
            path = default_storage.save(f"migrations/{brand.code}/{run.pk}/{name}", ContentFile(upload.read()))
            kept.append({"name": name, "path": path})
        run.files = kept
        job = start_job("migration_import", actor=actor, at=at, brand=brand, params={"run_id": run.pk},
                        title=f"Migration {'dry run' if dry_run else 'import'} #{run.pk} ({source_system})")
        run.job = job
        run.save(update_fields=["files", "job"])
    return run


def execute_run(run: MigrationRun, files: list[tuple[str, bytes]], *, actor: Actor, progress=None,
                chunk_rows: int | None = None):
    """Run the import of `run` and keep its report on it (done when every file was good)."""
    MigrationRun.objects.filter(pk=run.pk).update(status="running")
    try:
        report = run_import(run.brand, files, actor=actor, at=clock.now(), source_system=run.source_system,
                            dry_run=run.dry_run, chunk_rows=chunk_rows, progress=progress, run=run)
    except ServiceError as exc:
        MigrationRun.objects.filter(pk=run.pk).update(status="failed", finished_at=clock.now(),
                                                      report={"ok": False, "summary": exc.message, "files": [],
                                                              "errors": [], "errors_not_listed": 0})
        raise
    run.report = report.as_dict()
    run.status = "done" if report.ok else "failed"
    run.finished_at = clock.now()
    run.save(update_fields=["report", "status", "finished_at"])
    return report
