"""The example flow and its service tasks (their behaviour set per test), shared by the workflow tests.

A module of its own, not conftest: `from conftest import ...` takes whichever conftest was imported
last when several test folders are collected together."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from telora.workflows.registry import service_task

FLOW = Path(__file__).resolve().parents[2] / "src/telora/workflows/flows/example_activation.bpmn"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

# What the example service tasks do next: a list of exceptions to raise before succeeding.
BEHAVIOUR: dict[str, list] = {"example.reserve": [], "example.activate": [], "example.reserve.undo": []}
CALLS: list[tuple[str, str, dict]] = []


def _next_failure(key):
    if BEHAVIOUR[key]:
        raise BEHAVIOUR[key].pop(0)


def undo_reserve(ctx, *, inputs, outputs):
    """The compensation of example.reserve: what a cancel runs for each completed reserve."""
    _next_failure("example.reserve.undo")
    CALLS.append(("undo example.reserve", ctx.step_key, {"reservation": outputs.get("reservation")}))
    return {"released": outputs.get("reservation", "")}


@service_task("example.reserve", inputs={"amount": int}, outputs={"reservation": str},
              description="Reserve something for the amount (test task)", undo=undo_reserve,
              undo_description="release the reservation")
def reserve(ctx, *, amount):
    from telora.core.services import Actor
    from telora.core.services.audit import record_event

    # An effect in the step's transaction: an audit row that must vanish when the try fails.
    record_event(actor=Actor.system("example"), at=ctx.at, action="reserve", obj=ctx.instance,
                 brand=ctx.brand, message=ctx.step_key)
    _next_failure("example.reserve")
    CALLS.append(("example.reserve", ctx.step_key, {"amount": amount}))
    return {"reservation": f"R-{amount}"}


@service_task("example.activate", inputs={"reservation": str}, outputs={"activated_at": str},
              description="Activate the reservation (test task)")
def activate(ctx, *, reservation):
    _next_failure("example.activate")
    CALLS.append(("example.activate", ctx.step_key, {"reservation": reservation}))
    return {"activated_at": ctx.at.isoformat()}


