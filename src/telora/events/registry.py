"""Consumers of the event outbox register here (a higher app registers into this lower one).

    from telora.events.registry import consumer

    @consumer("letters", types=("invoice.issued", "balance.low"))
    def handle(event): ...

Delivery is at least once: a crash before the consumer's position is saved hands the same events
again, so a handler must be idempotent. A handler runs inside the dispatcher's transaction (its
database writes commit together with the consumer's new position); it must not call out to slow
systems itself but write rows and schedule work (`transaction.on_commit`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from telora.events.types import EVENT_TYPES

NAME_MAX = 64


@dataclass(frozen=True)
class Consumer:
    name: str
    handler: Callable
    types: tuple[str, ...] = ()  # empty: every type
    batch: bool = False  # the handler takes a list of events at once (for bulk writes)


_CONSUMERS: dict[str, Consumer] = {}


def consumer(name: str, *, types: tuple[str, ...] | list[str] = (), batch: bool = False):
    """Register `handler(event)` (or `handler(events)` with batch=True) under a unique name."""
    if not name or len(name) > NAME_MAX:
        raise ValueError(f"consumer name: 1 to {NAME_MAX} characters, not {name!r}")
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        raise ValueError(f"consumer {name!r}: unknown event types {', '.join(unknown)}")

    def register(handler: Callable) -> Callable:
        entry = Consumer(name=name, handler=handler, types=tuple(types), batch=batch)
        existing = _CONSUMERS.get(name)
        if existing is not None and existing.handler is not handler and (
                existing.handler.__module__, existing.handler.__qualname__) != (handler.__module__, handler.__qualname__):
            raise ValueError(f"consumer {name!r} is already registered")
        _CONSUMERS[name] = entry
        return handler

    return register


def unregister(name: str) -> None:
    """Tests and benchmarks take their own consumers away again."""
    _CONSUMERS.pop(name, None)


def consumers() -> list[Consumer]:
    return sorted(_CONSUMERS.values(), key=lambda c: c.name)


def get_consumer(name: str) -> Consumer:
    try:
        return _CONSUMERS[name]
    except KeyError:
        raise KeyError(f"no consumer {name!r}") from None
