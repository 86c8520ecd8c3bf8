"""Database chores shared by the test fixtures."""

# Procrastinate's tables are not Django-managed, so a flush (a transactional test's end, or a
# module fixture that committed its seed) leaves their rows: a later test would see its jobs.
PROCRASTINATE_TABLES = "procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, procrastinate_workers"


def forget_queued_jobs() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {PROCRASTINATE_TABLES} CASCADE")
