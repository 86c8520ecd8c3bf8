"""Account actions (sell a line, change plan, add or end an add-on, suspend, resume, terminate, swap
SIM) and who carries them out.

The customers app does them itself with its services. An app above it (orders) may register a
*taker*: every account action then becomes an order that runs its flow. The customers app imports
none of it; the arrow points down, as with the panels registry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telora.core.services.actors import Actor

_TAKER: list[Callable] = []


@dataclass
class Outcome:
    """What an action gave: the service's result when it happened now, and the order that carried it."""

    result: Any = None
    order: Any = None

    @property
    def done(self) -> bool:
        return self.order is None or self.order.state == "completed"


def register_taker(taker: Callable) -> None:
    """`taker(action, target, values, *, actor, at, interface, when, run)` -> Outcome."""
    _TAKER[:] = [taker]


def take(action: str, target, values: dict, *, actor: Actor, at: dt.datetime, run: Callable[[dt.datetime], Any],
         interface: str = "gui", when: dict | None = None) -> Outcome:
    """Carry out an account action on `target` (a Subscription, or the Customer for a new line):
    through the registered taker, else at once with `run(at)`."""
    if not _TAKER:
        if when and when.get("mode", "now") != "now":
            from telora.core.services.actors import ServiceError

            raise ServiceError("when: a change for a later date needs the orders module", field="when")
        return Outcome(result=run(at))
    return _TAKER[0](action, target, values, actor=actor, at=at, interface=interface, when=when or {}, run=run)
