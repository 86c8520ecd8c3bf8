"""The bounds of one render of a user-edited template, and where they come from (TELORA_TEMPLATE_*).

Two kinds: the sandbox's own counters (loop iterations, output, the size of numbers and sequences
an operator may make, call depth), checked as the template runs, and the worker process's limits
(CPU seconds, memory, wall-clock seconds), enforced by the operating system and a watchdog.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

# setting name -> Limits field (docs/billing.md, Editing templates safely)
SETTINGS = {
    "TELORA_TEMPLATE_CPU_SECONDS": "cpu_seconds",
    "TELORA_TEMPLATE_MEMORY_MB": "memory_mb",
    "TELORA_TEMPLATE_WALL_SECONDS": "wall_seconds",
    "TELORA_TEMPLATE_MAX_LOOP_ITERATIONS": "max_loop_iterations",
    "TELORA_TEMPLATE_MAX_OUTPUT": "max_output",
}


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 30  # CPU time of one render (RLIMIT_CPU, whole seconds)
    memory_mb: int = 1024  # address space a render may add to its worker (RLIMIT_AS)
    wall_seconds: float = 60.0  # the watchdog kills a worker whose render takes longer
    max_loop_iterations: int = 1_000_000  # every {% for %} step of one render, all loops together
    max_output: int = 20_000_000  # characters of output of one render
    max_int_bits: int = 4096  # an integer made by * or ** (2**4096 has 1,234 digits)
    max_sequence: int = 1_000_000  # characters or items made by one * or + on strings and lists
    max_range: int = 100_000  # items of one range()
    max_width: int = 10_000  # a width, padding or count given to a string method, filter or format
    max_depth: int = 50  # macros, caller() and blocks calling each other, nested


def limits_from_settings(**overrides) -> Limits:
    """The limits configured in Django settings (defaults when Django is not set up, as in a bench)."""
    values = {}
    try:
        from django.conf import settings

        for name, field in SETTINGS.items():
            value = getattr(settings, name, None)
            if value is not None:
                values[field] = value
    except Exception:  # noqa: BLE001  (no Django settings: the defaults)
        values = {}
    known = {f.name for f in fields(Limits)}
    return replace(Limits(), **{k: v for k, v in {**values, **overrides}.items() if k in known})
