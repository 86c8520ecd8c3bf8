"""What higher apps plug into the workflow engine: service tasks and subject hooks.

`workflows` imports none of the apps whose operations its flows run: each app registers its
operations here from its AppConfig.ready() (`@service_task("customers.activate_subscription", ...)`),
and a flow names them by key. Saving a flow checks every key it names exists here and that every
declared input is mapped. An app that owns the *subject* of instances (an order) registers a
callback told of every change, and a way to show the subject beside a desk task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class TaskError(Exception):
    """Raised by a service task. `transient=True`: retried with backoff; else a BPMN error with `code`
    (caught by an error boundary event of the task if the flow has one, else a desk task)."""

    def __init__(self, code: str, message: str = "", *, transient: bool = False):
        super().__init__(message or code)
        self.code = code
        self.message = message or code
        self.transient = transient


@dataclass(frozen=True)
class ServiceTaskSpec:
    key: str
    function: Callable
    inputs: dict[str, type] = field(default_factory=dict)
    outputs: dict[str, type] = field(default_factory=dict)
    description: str = ""
    # undo(ctx, inputs=..., outputs=...) -> dict: takes back what one completed run did (a cancelled
    # instance runs the undo of its completed steps, last first); None: nothing to take back
    undo: Callable | None = None
    undo_description: str = ""


@dataclass(frozen=True)
class StepContext:
    """What a service task is handed: who acts, when, in which brand and instance, and the step key
    (stable per instance + task + try) to use as its idempotency key; `fresh` when no earlier try exists."""

    actor: Any
    at: Any
    brand: Any
    instance: Any
    step_key: str
    # the task became ready in this run of the instance's steps: no earlier try of it exists, so a task may skip
    # looking up its step key (it still records it)
    fresh: bool = False


@dataclass(frozen=True)
class SubjectHook:
    subject_type: str
    on_change: Callable | None = None
    describe: Callable | None = None  # describe(instance) -> (title, url or "", [(label, value), ...])
    label: Callable | None = None  # label(instance) -> the title alone, for a new desk task (cheaper than describe)


_TASKS: dict[str, ServiceTaskSpec] = {}
_SUBJECTS: dict[str, SubjectHook] = {}


def service_task(key: str, *, inputs: dict | None = None, outputs: dict | None = None, description: str = "",
                 undo: Callable | None = None, undo_description: str = ""):
    """Decorator registering `function(ctx, **inputs) -> dict of outputs` under `key`, with its `undo`
    (the compensation a cancelled instance runs for each completed run of the task)."""

    def register(function):
        spec = ServiceTaskSpec(key, function, dict(inputs or {}), dict(outputs or {}), description, undo,
                               undo_description or (f"undo {key}" if undo else ""))
        existing = _TASKS.get(key)
        if existing is not None and existing.function is not function:
            raise ValueError(f"service task {key!r} is already registered")
        _TASKS[key] = spec
        return function

    return register


def get_service_task(key: str) -> ServiceTaskSpec:
    try:
        return _TASKS[key]
    except KeyError:
        raise KeyError(f"unknown service task {key!r}") from None


def service_tasks() -> list[ServiceTaskSpec]:
    return sorted(_TASKS.values(), key=lambda spec: spec.key)


def unregister_service_task(key: str) -> None:
    """For tests that register throwaway tasks."""
    _TASKS.pop(key, None)


def register_subject(subject_type: str, on_change: Callable | None = None, *, describe: Callable | None = None,
                     label: Callable | None = None):
    _SUBJECTS[subject_type] = SubjectHook(subject_type, on_change, describe, label)


def subject_hook(subject_type: str) -> SubjectHook | None:
    return _SUBJECTS.get(subject_type)


def unregister_subject(subject_type: str) -> None:
    _SUBJECTS.pop(subject_type, None)
