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

    Use it in a module-scoped fixture named *_kept that the module asks for (pytestmark
    usefixtures): pytest sets module fixtures up before a test's `db`, so each test starts from the
    built data and its own writes are undone after it. A transactional test cannot see uncommitted
    data: before one, tests/conftest.py drops the kept data, and the module's later tests build
    their own (put transactional tests last in such a module)."""
    from django.db import connection, transaction

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        connection.telora_kept = outer
        try:
            yield
        finally:
            drop_kept_data()


def kept_data_open() -> bool:
    from django.db import connection

    return getattr(connection, "telora_kept", None) is not None


def drop_kept_data() -> None:
    """Roll back the module's kept data now (before a transactional test)."""
    from django.db import connection, transaction

    outer = getattr(connection, "telora_kept", None)
    if outer is not None:
        connection.telora_kept = None
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def uses_kept(request, name: str) -> bool:
    """Whether the test runs on the kept data of fixture `name` (still open, not dropped)."""
    return name in request.fixturenames and kept_data_open()


BRAND_A = dict(code="alpha", name="Alpha Mobile", currency="EUR", timezone="Europe/Amsterdam", country="NL",
               language="en")


def kept_brand(request, code: str):
    """The brand `code` of the module's kept data when the test runs on it, else None."""
    if not (kept_data_open() and any(name.endswith("_kept") for name in request.fixturenames)):
        return None
    from telora.core.models import Brand

    return Brand.objects.filter(code=code).first()
