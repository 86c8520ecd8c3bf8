"""Service tasks of the SIGKILL test, imported by the test and by its worker process.

Each writes one audit row (its effect) named by its step key; `kill.hold` first waits for an advisory
lock the test holds, so the worker is inside that step's transaction when it is killed."""

from django.db import connection

from telora.core.services import Actor
from telora.core.services.audit import record_event
from telora.workflows.registry import service_task

HOLD_LOCK = (7300, 1)


def _effect(ctx, action):
    record_event(actor=Actor.system("kill-test"), at=ctx.at, action=action, obj=ctx.instance, brand=ctx.brand,
                 message=ctx.step_key)


@service_task("kill.first", description="first effect")
def first(ctx):
    _effect(ctx, "kill.first")
    return {}


@service_task("kill.hold", description="second effect, after the test's lock")
def hold(ctx):
    _effect(ctx, "kill.hold")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", HOLD_LOCK)
    return {}
