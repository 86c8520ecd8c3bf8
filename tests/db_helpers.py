"""Database chores shared by the test fixtures."""

from contextlib import contextmanager

# Procrastinate's tables are not Django-managed, so a flush (a transactional test's end, or a
# module fixture that committed its seed) leaves their rows: a later test would see its jobs.
PROCRASTINATE_TABLES = "procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, procrastinate_workers"


def forget_queued_jobs() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {PROCRASTINATE_TABLES} CASCADE")


@contextmanager
def kept_for_the_module(django_db_blocker):
    """Data built once for a module of tests, under an outer transaction that every test's own
    transaction (a savepoint, pytest-django's `db`) nests in; rolled back when the module ends.

    Use it in a module-scoped fixture: pytest sets those up before a test's `db`, so each test
    starts from the built data and its own writes are undone after it. A transactional test cannot
    run inside it (tests/conftest.py refuses that)."""
    from django.db import connection, transaction

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        connection.telora_seed_open = True
        try:
            yield
        finally:
            connection.telora_seed_open = False
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


BRAND_A = dict(code="alpha", name="Alpha Mobile", currency="EUR", timezone="Europe/Amsterdam", country="NL",
               language="en")


def kept_brand(request, code: str):
    """The brand `code` of the module's kept data when the test uses it (its name ends in _kept), else None."""
    if not any(name.endswith("_kept") for name in request.fixturenames):
        return None
    from telora.core.models import Brand

    return Brand.objects.filter(code=code).first()
