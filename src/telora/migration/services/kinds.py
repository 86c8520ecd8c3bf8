"""The shape every entity of the import has (see parties.py, lines.py, money.py)."""

from __future__ import annotations

from telora.migration.services.base import Context, Ref


def same(a: Ref, b: Ref) -> bool:
    """The same object, whether both are planned in this run or one was loaded from an earlier one."""
    return a is b or (a.id is not None and a.id == b.id)


class Kind:
    """One entity: its columns, the entities its columns refer to, and how its rows are checked,
    written (in bulk, inside the file's transaction) and loaded back from an earlier run."""

    entity: str = ""
    model = None
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    refs: dict[str, str] = {}  # column → entity whose source id it holds
    # the models `write` inserts into, when it inserts only with copy_objects (and changes no keys
    # otherwise): their foreign keys are then checked per table at the file's end (core.bulk_keys)
    writes: tuple = ()

    def prepare(self, ctx: Context, rows: list[tuple[int, dict]]) -> None:
        """Load in bulk what checking the rows needs (inventory, existing counters, catalogue...):
        `check` reads no database, as it runs beside the writes (runner._check_while_writing)."""

    def check(self, ctx: Context, row: dict) -> tuple[object, Ref]:
        """The row's object (unsaved) and its Ref, or Bad naming the column; no database reads."""
        raise NotImplementedError

    def write(self, ctx: Context, planned: list[tuple[object, Ref]]) -> None:
        raise NotImplementedError

    def load(self, ctx: Context, ids: list[int]) -> dict[int, Ref]:
        raise NotImplementedError
