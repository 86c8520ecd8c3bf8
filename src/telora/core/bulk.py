"""Bulk inserts with COPY, for the paths that write thousands of rows in one transaction
(bill runs, the migration import). The rows are checked by the caller; the database's
constraints still hold as for any insert."""

from __future__ import annotations

import contextlib
import gc
import json
import operator

from django.db import connection
from django.db.models.base import ModelState

_JSON = json.JSONEncoder(check_circular=False, separators=(",", ":"))
_DEFAULTS: dict = {}


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


def assign_ids(model, objects: list) -> None:
    """Take ids for `objects` from the table's sequence and set them (before rows refer to each other)."""
    if not objects:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                       [model._meta.db_table, len(objects)])
        for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
            obj.pk = pk


def copy_objects(model, objects: list, *, with_ids: bool = False, ids_given: bool = False) -> None:
    """Insert model rows with COPY (quicker than bulk_create's arrays for long texts and JSON);
    `with_ids`: their ids are taken from the table's sequence first and set on the objects;
    `ids_given`: the objects have theirs already (from `assign_ids`)."""
    if not objects:
        return
    table = model._meta.db_table
    if with_ids:
        assign_ids(model, objects)
    fields = [f for f in model._meta.concrete_fields if with_ids or ids_given or not f.primary_key]
    with connection.cursor() as cursor:
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        # one C call reads a row's values (itemgetter); JSON fields are encoded after it
        row_of = operator.itemgetter(*[f.attname for f in fields])
        if len(fields) == 1:
            one = row_of
            row_of = lambda values: (one(values),)  # noqa: E731  (itemgetter of one name gives no tuple)
        json_at = [n for n, f in enumerate(fields) if f.get_internal_type() == "JSONField"]
        dumps = _JSON.encode
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for obj in objects:
                row = row_of(obj.__dict__)
                if json_at:
                    row = list(row)
                    for n in json_at:
                        row[n] = dumps(row[n])
                copy.write_row(row)
