"""Bulk inserts with COPY, for the paths that write thousands of rows in one transaction
(bill runs, the migration import). The rows are checked by the caller; the database's
constraints still hold as for any insert."""

from __future__ import annotations

import contextlib
import gc
import json
import operator
import queue
import threading

from django.db import connection
from django.db.models.base import ModelState

from telora.core import bulk_keys

_JSON = json.JSONEncoder(check_circular=False, separators=(",", ":"))
_DEFAULTS: dict = {}
_LOCAL = threading.local()  # .pipeline: the CopyPipeline this thread's copy_objects hands its rows to
ID_BLOCK = 5000  # ids a pipeline takes from a sequence at a time


@contextlib.contextmanager
def gc_paused():
    """No cyclic garbage collection inside the block, a full one after it.

    A bulk path keeps tens of thousands of new rows alive until they are written; the collector
    would walk them again and again as they pile up (a third of a migration import's CPU). Memory
    freed by reference counting is freed as usual; cyclic garbage waits for the collection at the end."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def new_object(model, **values):
    """An unsaved model instance from attribute names (`brand_id`, not `brand`), made without
    Model.__init__ (a tenth of its cost, which counts at tens of thousands of rows): the fields'
    defaults, then `values`. Meant for rows written with `copy_objects`."""
    found = _DEFAULTS.get(model)
    if found is None:
        fixed, called = {}, []
        for f in model._meta.concrete_fields:
            if f.has_default() and callable(f.default):
                called.append((f.attname, f.default))
            else:
                fixed[f.attname] = f.get_default()
        found = _DEFAULTS[model] = (fixed, called)
    fixed, called = found
    obj = model.__new__(model)
    state = obj.__dict__
    state.update(fixed)
    for name, default in called:
        state[name] = default()
    state.update(values)
    obj._state = ModelState()
    return obj


_NEXT_IDS = "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)"


def _next_ids(table: str, count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_IDS, [table, count])
        return [pk for (pk,) in cursor.fetchall()]


def assign_ids(model, objects: list) -> None:
    """Take ids for `objects` from the table's sequence and set them (before rows refer to each other)."""
    if not objects:
        return
    pipeline = getattr(_LOCAL, "pipeline", None)
    ids = pipeline.ids(model._meta.db_table, len(objects)) if pipeline else _next_ids(model._meta.db_table,
                                                                                      len(objects))
    name = model._meta.pk.attname
    for obj, pk in zip(objects, ids, strict=True):
        obj.__dict__[name] = pk  # what `obj.pk = pk` sets, without the property's calls


def copy_objects(model, objects: list, *, with_ids: bool = False, ids_given: bool = False) -> None:
    """Insert model rows with COPY (quicker than bulk_create's arrays for long texts and JSON);
    `with_ids`: their ids are taken from the table's sequence first and set on the objects;
    `ids_given`: the objects have theirs already (from `assign_ids`)."""
    if not objects:
        return
    table = model._meta.db_table
    keys = bulk_keys.recording()
    if keys is not None and not ids_given:  # the key checks find the rows by id
        with_ids = True
    if with_ids:
        assign_ids(model, objects)
    if keys is not None:
        name = model._meta.pk.attname
        keys.record(table, [obj.__dict__[name] for obj in objects])
    fields = [f for f in model._meta.concrete_fields if with_ids or ids_given or not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    # one C call reads a row's values (itemgetter); JSON fields are encoded after it
    row_of = operator.itemgetter(*[f.attname for f in fields])
    if len(fields) == 1:
        one = row_of
        row_of = lambda values: (one(values),)  # noqa: E731  (itemgetter of one name gives no tuple)
    json_at = [n for n, f in enumerate(fields) if f.get_internal_type() == "JSONField"]
    dumps = _JSON.encode

    def rows():
        for obj in objects:
            row = row_of(obj.__dict__)
            if json_at:
                row = list(row)
                for n in json_at:
                    row[n] = dumps(row[n])
            yield row

    statement = f"COPY {table} ({columns}) FROM STDIN"
    pipeline = getattr(_LOCAL, "pipeline", None)
    if pipeline is not None:
        pipeline.submit(statement, list(rows()))
        return
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows():
            copy.write_row(row)


class CopyPipeline:
    """COPYs run by a thread of their own on this thread's connection, in its transaction and in
    the order given, while this thread goes on building the next rows.

    A COPY returns only when the server has inserted its rows and checked their foreign keys; a
    bulk path that waits for that builds nothing meanwhile, and Python and PostgreSQL take turns on
    a machine with a core for each. Inside `copy_pipeline()`, `copy_objects` hands its rows over and
    returns; `assign_ids` takes ids from blocks reserved ahead. A query of this thread waits for the
    COPY under way (psycopg's connection lock) but may overtake the ones queued: call `drain()`
    before one that must see them. The first error stops the rest and is raised here.

    Ids come from a connection of the pipeline's own: sequences stand outside transactions, so
    they are the same ids, without waiting for the COPY under way on the main connection.
    """

    def __init__(self, depth: int = 8):
        connection.ensure_connection()
        self._raw = connection.connection
        self._jobs: queue.Queue = queue.Queue(maxsize=depth)
        self._pools: dict[str, list[int]] = {}
        self._ids_connection = None
        self.error: BaseException | None = None
        self.stopped = False  # the building thread failed: the rest is not written
        self._thread = threading.Thread(target=self._run, name="copy-pipeline", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            statement, rows, done = job
            try:
                if statement is not None and self.error is None and not self.stopped:
                    with self._raw.cursor() as cursor, cursor.copy(statement) as copy:
                        for row in rows:
                            copy.write_row(row)
            except BaseException as exc:  # raised in the building thread at its next call
                self.error = exc
            finally:
                if done is not None:
                    done.set()

    def _check(self) -> None:
        if self.error is not None:
            raise self.error

    def submit(self, statement: str, rows: list) -> None:
        self._check()
        self._jobs.put((statement, rows, None))

    def ids(self, table: str, count: int) -> list[int]:
        pool = self._pools.setdefault(table, [])
        if len(pool) < count:
            if self._ids_connection is None:
                self._ids_connection = connection.get_new_connection(connection.get_connection_params())
                self._ids_connection.autocommit = True
            with self._ids_connection.cursor() as cursor:
                cursor.execute(_NEXT_IDS, [table, max(count - len(pool), ID_BLOCK)])
                pool += [pk for (pk,) in cursor.fetchall()]
        taken, self._pools[table] = pool[:count], pool[count:]
        return taken

    def drain(self) -> None:
        """Wait for every COPY handed over so far; raise the first error."""
        done = threading.Event()
        self._jobs.put((None, None, done))
        done.wait()
        self._check()

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join()
        if self._ids_connection is not None:
            self._ids_connection.close()


@contextlib.contextmanager
def copy_pipeline():
    """`copy_objects` of this thread runs on a CopyPipeline until the block ends (which waits for
    every COPY and raises the first error). Nested: the outer pipeline goes on."""
    if getattr(_LOCAL, "pipeline", None) is not None:
        yield _LOCAL.pipeline
        return
    pipeline = CopyPipeline()
    _LOCAL.pipeline = pipeline
    try:
        yield pipeline
        pipeline.drain()
    except BaseException:
        pipeline.stopped = True
        raise
    finally:
        _LOCAL.pipeline = None
        pipeline.close()
