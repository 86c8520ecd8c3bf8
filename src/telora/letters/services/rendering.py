"""Letters render in a bounded worker process (telora.core.sandbox.BoundedPool: CPU, memory and
wall-clock limits), kept for the life of this process so a burst of letters pays for one start.

Many letters render in one round trip (`render_many`, chunks of CHUNK): a pipe round trip to the
worker per letter cost more than the render itself. A chunk that breaches a worker limit is rendered
again letter by letter, so only the letter at fault fails.

The sandbox's own counters (loop steps, output, number sizes) bound a render already; the worker adds
what they cannot count. A render that breaches a limit is a LetterTemplateError naming it, and that
letter fails; the worker is replaced and the next letter goes on.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from telora.core.sandbox import BoundedPool, LimitExceeded, limits_from_settings
from telora.letters.engine import LetterTemplateError, render_many_task, render_task

WALL_SECONDS = 15.0  # one letter renders in milliseconds; a request never waits longer than this
CHUNK = 200  # letters per round trip: 200 renders take well under a second, far below the limits
_POOL: list[BoundedPool] = []
_LOCK = threading.Lock()


def _pool() -> BoundedPool:
    if not _POOL:
        limits = limits_from_settings()
        _POOL.append(BoundedPool(replace(limits, wall_seconds=min(limits.wall_seconds, WALL_SECONDS)), workers=1))
    return _POOL[0]


def render_bounded(parts: dict, context: dict) -> dict:
    """engine.render_letter in the process's bounded worker."""
    with _LOCK:
        try:
            return _pool().call(render_task, (parts, context))
        except LimitExceeded as exc:
            raise LetterTemplateError(str(exc)) from None


def render_many(tasks: list[tuple[dict, dict]]) -> list:
    """Each (parts, context) rendered: its parts, or the LetterTemplateError that fails that letter."""
    answers: list = []
    for start in range(0, len(tasks), CHUNK):
        chunk = tasks[start:start + CHUNK]
        with _LOCK:
            try:
                answers.extend(_pool().call(render_many_task, chunk))
                continue
            except LimitExceeded:
                pass  # one of them ran away: find which, letter by letter
        for parts, context in chunk:
            try:
                answers.append(render_bounded(parts, context))
            except LetterTemplateError as exc:
                answers.append(exc)
    return answers


def close() -> None:
    """End the worker (tests, or a process that renders no more letters)."""
    with _LOCK:
        while _POOL:
            _POOL.pop().close()
