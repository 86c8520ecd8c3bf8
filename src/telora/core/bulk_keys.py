"""Foreign keys of bulk-copied rows checked once per table, not once per row.

PostgreSQL checks a foreign key by a trigger per inserted row: a look-up of the referenced row and
a KEY SHARE lock on it, about forty a migrated customer, close to half of the database's work in an
import. Inside `keys_checked_at_end(models)` the transaction's per-row triggers are off
(`session_replication_role = replica`) and `copy_objects` records the ids it writes; `check()` then
runs, for each table written and each of its single-column foreign keys (read from the catalogue,
so a key added later is checked too), one statement that takes the same KEY SHARE locks on every
referenced row and counts them against the distinct keys written: a missing row is an
`IntegrityError` naming the constraint and a key (as PostgreSQL's own message), raised before commit, and the transaction
rolls back as for any refused insert. What the database guarantees is unchanged; it is checked per
table.

It applies only where it is the same guarantee: the role may set `session_replication_role`
(a superuser, or `GRANT SET ON PARAMETER session_replication_role`), and the tables given have no
triggers but their foreign keys' (none of their own, no deferrable unique constraint's recheck:
the replica role would skip those too). Elsewhere the block changes
nothing and the per-row triggers run as usual. Writes in the block other than `copy_objects` must
not insert rows with keys nor change keys (the caller's promise: updates of status columns, the
brand's number counters).
"""

from __future__ import annotations

import contextlib
import threading

from django.db import IntegrityError, connection

_LOCAL = threading.local()  # .keys: the KeyChecks recording this thread's copy_objects
_FOREIGN_KEYS: dict[str, list[tuple[str, str, str, str]]] = {}

_KEYS_OF = """
SELECT c.conname, a.attname, c.confrelid::regclass::text, pa.attname
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
WHERE c.contype = 'f' AND c.conrelid = %s::regclass
ORDER BY c.conname
"""


class KeyChecks:
    """The ids written per table in the block, and their keys' check."""

    def __init__(self, tables: set[str]):
        self.tables = tables
        self.written: dict[str, list[int]] = {}

    def record(self, table: str, ids: list[int]) -> None:
        if table not in self.tables:
            raise RuntimeError(f"{table} was copied inside keys_checked_at_end but not named to it")
        self.written.setdefault(table, []).extend(ids)

    def check(self) -> None:
        """Lock and count the rows the written keys refer to; raise on the first missing one."""
        with connection.cursor() as cursor:
            for table, ids in self.written.items():
                if not ids:
                    continue
                lows, highs = _runs(ids)
                for name, column, parent, parent_column in _foreign_keys(cursor, table):
                    refs = (f"SELECT DISTINCT c.{column} AS k FROM unnest(%s::bigint[], %s::bigint[]) r(lo, hi) "
                            f"JOIN {table} c ON c.id BETWEEN r.lo AND r.hi WHERE c.{column} IS NOT NULL")
                    cursor.execute(
                        f"WITH refs AS ({refs}), found AS (SELECT p.{parent_column} AS k FROM {parent} p "
                        f"WHERE p.{parent_column} IN (SELECT k FROM refs) FOR KEY SHARE OF p) "
                        "SELECT (SELECT count(*) FROM refs), (SELECT count(*) FROM found)", [lows, highs])
                    wanted, found = cursor.fetchone()
                    if wanted != found:
                        cursor.execute(f"SELECT min(k) FROM ({refs}) w WHERE NOT EXISTS "
                                       f"(SELECT 1 FROM {parent} p WHERE p.{parent_column} = w.k)", [lows, highs])
                        key = cursor.fetchone()[0]
                        raise IntegrityError(
                            f'insert or update on table "{table}" violates foreign key constraint "{name}": '
                            f'Key ({column})=({key}) is not present in table "{parent}".')
        self.written.clear()


def _foreign_keys(cursor, table: str) -> list[tuple[str, str, str, str]]:
    """(constraint, column, referenced table, referenced column) of the table's single-column keys."""
    found = _FOREIGN_KEYS.get(table)
    if found is None:
        cursor.execute(_KEYS_OF.replace("WHERE", "WHERE array_length(c.conkey, 1) = 1 AND", 1), [table])
        keys = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = %s::regclass "
                       "AND array_length(conkey, 1) > 1", [table])
        if cursor.fetchone()[0]:
            raise RuntimeError(f"{table} has a foreign key of several columns; keys_checked_at_end checks single ones")
        found = _FOREIGN_KEYS[table] = [(n, connection.ops.quote_name(c), p, connection.ops.quote_name(pc))
                                        for n, c, p, pc in keys]
    return found


def _runs(ids: list[int]) -> tuple[list[int], list[int]]:
    """Sorted ids as runs of consecutive values (ids come in blocks from a sequence): few ranges
    to send and scan instead of tens of thousands of values."""
    lows, highs = [], []
    for pk in sorted(ids):
        if highs and pk == highs[-1] + 1:
            highs[-1] = pk
        else:
            lows.append(pk)
            highs.append(pk)
    return lows, highs


def may_check_at_end(tables: set[str]) -> bool:
    """The role may switch the per-row triggers off, and the tables have no triggers but their keys'."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('session_replication_role') = 'origin' "
                       "AND has_parameter_privilege('session_replication_role', 'SET')")
        if not cursor.fetchone()[0]:
            return False
        # any trigger but the foreign keys' own: a table's own triggers, and the recheck of a
        # deferrable unique or exclusion constraint, which the replica role would skip as well
        cursor.execute("SELECT count(*) FROM pg_trigger t JOIN pg_proc f ON f.oid = t.tgfoid "
                       "WHERE t.tgrelid = ANY(%s::regclass[]) AND t.tgenabled <> 'D' "
                       "AND f.proname NOT LIKE 'RI\\_FKey\\_%%'", [sorted(tables)])
        return cursor.fetchone()[0] == 0


def recording() -> KeyChecks | None:
    """The KeyChecks of this thread's open block, if any (copy_objects records its ids there)."""
    return getattr(_LOCAL, "keys", None)


@contextlib.contextmanager
def keys_checked_at_end(models):
    """Inside a transaction: the foreign keys of the rows `copy_objects` writes into `models`'
    tables are checked per table by `check()` (call it before the block ends, after the last
    COPY), or per row as usual where that is not the same guarantee (see the module). Yields the
    KeyChecks, or None when the per-row triggers run."""
    if not connection.in_atomic_block:
        raise RuntimeError("keys_checked_at_end needs a transaction")
    tables = {m._meta.db_table for m in models}
    if getattr(_LOCAL, "keys", None) is not None or not may_check_at_end(tables):
        yield None
        return
    keys = KeyChecks(tables)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
    _LOCAL.keys = keys
    try:
        yield keys
        if keys.written:
            raise RuntimeError("keys_checked_at_end: rows written after the last check()")
    finally:
        _LOCAL.keys = None
    # on an error the transaction (or its savepoint) rolls back, and the setting with it
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = origin")
