"""Worker processes that render user-edited templates under CPU, memory and wall-clock limits.

Each worker is forked from multiprocessing's forkserver (a fresh interpreter that loaded the
caller's `preload` modules once, never a fork of a process holding database connections) and takes
one task at a time over a pipe. Before each task it sets RLIMIT_CPU to the CPU time it has used
plus `cpu_seconds` (the kernel ends it with SIGXCPU past that); RLIMIT_AS caps the address space
at its size when it started plus `memory_mb` (an allocation past that is a MemoryError: the worker
reports it and exits); and the parent kills a worker whose task outlives `wall_seconds`. A worker
that ends is replaced at once and the task it held fails with LimitExceeded naming the limit; the
other tasks go on.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait

from telora.core.sandbox.limits import Limits

MEGABYTE = 1024 * 1024


class LimitExceeded(RuntimeError):
    """A render stopped by its worker's limits: `limit` is "cpu", "memory", "wall" or "crash"."""

    def __init__(self, limit: str, message: str):
        super().__init__(message)
        self.limit = limit

    def __reduce__(self):
        return type(self), (self.limit, str(self))


@dataclass
class Outcome:
    index: int
    value: object = None
    error: BaseException | None = None


def _address_space() -> int:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _arm_cpu(seconds: int) -> None:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime) + max(1, int(seconds))
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling (its class and message), else a RuntimeError."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _worker_main(conn, limits: Limits, initializer, initargs) -> None:
    import resource

    from telora.core.sandbox.environment import configure

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    configure(limits)
    if initializer is not None:
        initializer(*initargs)
    if limits.memory_mb:
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        soft = _address_space() + int(limits.memory_mb) * MEGABYTE
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        func, arg = task
        if limits.cpu_seconds:
            _arm_cpu(limits.cpu_seconds)
        try:
            answer = ("ok", func(arg))
        except MemoryError:
            answer = None
        except BaseException as exc:  # noqa: BLE001  (the task's own failure goes back to the caller)
            answer = ("error", _portable(exc))
        if answer is None:
            conn.send(("memory", None))
            os._exit(70)  # the heap may be in any state: a fresh worker takes over
        conn.send(answer)


class _Slot:
    def __init__(self, process, conn):
        self.process = process
        self.conn = conn
        self.index: int | None = None
        self.deadline = 0.0


class BoundedPool:
    """`workers` bounded processes; `map(func, items)` yields an Outcome per item as each finishes.

    `func` must be a module-level function (it is sent by name); its exceptions come back as they
    were raised, and a limit breached as LimitExceeded. Use as a context manager (or call close()).
    """

    def __init__(self, limits: Limits, *, workers: int = 1, preload: Iterable[str] = (),
                 initializer: Callable | None = None, initargs: tuple = ()):
        self.limits = limits
        self._context = multiprocessing.get_context("forkserver")
        if preload:
            self._context.set_forkserver_preload(list(preload))  # taken when the forkserver starts
        self._initializer = initializer
        self._initargs = initargs
        self._slots = [self._start() for _ in range(max(1, workers))]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def pids(self) -> list[int]:
        return [slot.process.pid for slot in self._slots]

    def _start(self) -> _Slot:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker_main, daemon=True,
                                        args=(child, self.limits, self._initializer, self._initargs))
        process.start()
        child.close()
        return _Slot(process, parent)

    def _replace(self, slot: _Slot) -> _Slot:
        if slot.process.is_alive():
            slot.process.kill()
        slot.process.join()
        slot.conn.close()
        fresh = self._start()
        self._slots[self._slots.index(slot)] = fresh
        return fresh

    def _died(self, slot: _Slot) -> LimitExceeded:
        slot.process.join(5)
        code = slot.process.exitcode
        if code == -signal.SIGXCPU:
            return LimitExceeded("cpu", f"the render used more than {self.limits.cpu_seconds} s of CPU "
                                        "(TELORA_TEMPLATE_CPU_SECONDS) and was stopped")
        if code == -signal.SIGKILL:
            return LimitExceeded("memory", "the render's worker was killed by the system (out of memory?)")
        return LimitExceeded("crash", f"the render's worker ended unexpectedly (exit code {code})")

    def map(self, func: Callable, items: Iterable) -> Iterator[Outcome]:
        pending = iter(enumerate(items))
        exhausted = False
        while True:
            for slot in list(self._slots):
                if slot.index is None and not exhausted:
                    try:
                        index, item = next(pending)
                    except StopIteration:
                        exhausted = True
                        break
                    try:
                        slot.conn.send((func, item))
                    except OSError:  # the worker died while idle: a fresh one takes the task
                        slot = self._replace(slot)
                        slot.conn.send((func, item))
                    slot.index, slot.deadline = index, time.monotonic() + self.limits.wall_seconds
            busy = [slot for slot in self._slots if slot.index is not None]
            if not busy:
                return
            timeout = max(0.0, min(slot.deadline for slot in busy) - time.monotonic())
            ready = set(wait([s.conn for s in busy] + [s.process.sentinel for s in busy], timeout))
            for slot in busy:
                outcome = self._collect(slot, ready)
                if outcome is not None:
                    yield outcome

    def _collect(self, slot: _Slot, ready: set) -> Outcome | None:
        index = slot.index
        if slot.conn in ready:
            try:
                kind, value = slot.conn.recv()
            except (EOFError, OSError):
                kind, value = "died", None
            if kind == "ok":
                slot.index = None
                return Outcome(index, value=value)
            if kind == "error":
                slot.index = None
                return Outcome(index, error=value)
            if kind == "memory":
                error = LimitExceeded("memory", f"the render needed more than {self.limits.memory_mb} MB of "
                                                "memory (TELORA_TEMPLATE_MEMORY_MB) and was stopped")
            else:
                error = self._died(slot)
            self._replace(slot)
            return Outcome(index, error=error)
        if slot.process.sentinel in ready:
            error = self._died(slot)
            self._replace(slot)
            return Outcome(index, error=error)
        if time.monotonic() >= slot.deadline:
            self._replace(slot)  # killed: its render took too long
            return Outcome(index, error=LimitExceeded(
                "wall", f"the render took longer than {self.limits.wall_seconds:g} s "
                        "(TELORA_TEMPLATE_WALL_SECONDS) and was stopped"))
        return None

    def call(self, func: Callable, arg):
        """Run one task and return its value (or raise its error)."""
        outcome = next(self.map(func, [arg]))
        if outcome.error is not None:
            raise outcome.error
        return outcome.value

    def close(self) -> None:
        for slot in self._slots:
            try:
                slot.conn.send(None)
            except OSError:
                pass
        for slot in self._slots:
            slot.process.join(2)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join()
            slot.conn.close()
        self._slots = []


def run_bounded(func: Callable, arg, *, limits: Limits, preload: Iterable[str] = ()):
    """`func(arg)` in one bounded worker process (started for the call, ended after it)."""
    with BoundedPool(limits, workers=1, preload=preload) as pool:
        return pool.call(func, arg)


__all__ = ["BoundedPool", "LimitExceeded", "Outcome", "run_bounded"]
