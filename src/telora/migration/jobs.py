"""The migration import as a job kind: the API keeps the files and starts it (services.runs)."""

from django.core.files.storage import default_storage

from telora.core.services import Actor
from telora.core.services.jobs import JobContext, job_kind


@job_kind("migration_import", title="Migration import", permission="migration.import")
def run_migration(ctx: JobContext, *, run_id: int) -> dict:
    """Import the files kept for run `run_id` and delete them; the person who started it is the actor.
    To run it again, upload the files again (what was imported is skipped by source id)."""
    from telora.migration.models import MigrationRun
    from telora.migration.services.runs import execute_run

    run = MigrationRun.objects.select_related("brand").get(pk=run_id)
    creator = ctx.job.created_by
    actor = Actor(user=creator, job="migration_import") if creator else Actor.system("migration_import")
    files = []
    for kept in run.files:
        with default_storage.open(kept["path"], "rb") as fh:
            files.append((kept["name"], fh.read()))
    try:
        report = execute_run(run, files, actor=actor, progress=ctx)
    finally:  # the files hold personal data: kept only until they have been read once
        for kept in run.files:
            default_storage.delete(kept["path"])
    ctx.log(report.summary())
    for error in report.errors[:200]:
        ctx.log(str(error))
    return {"run": run.pk, "ok": report.ok, "summary": report.summary()}
