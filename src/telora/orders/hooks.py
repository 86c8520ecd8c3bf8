"""A registry higher apps fill: an order type's preparer runs in the order's transaction, after the order
has its number and before its items are stored, to check what only that app knows and to keep secrets
out of the items (the porting app records a port-in's sealed authorisation this way). The arrow still
points down: orders imports none of them."""

from __future__ import annotations

from collections.abc import Callable

PREPARERS: dict[str, Callable] = {}


def register_preparer(order_type: str, preparer: Callable) -> None:
    """`preparer(order, items, *, actor, at) -> items`; raises ServiceError (naming the field) to refuse."""
    PREPARERS[order_type] = preparer


def prepare(order, items: list[dict], *, actor, at) -> list[dict]:
    preparer = PREPARERS.get(order.order_type)
    return preparer(order, items, actor=actor, at=at) if preparer is not None else items
