"""`make bench`: run every bench/bench_*.py against a fresh `telora_bench` database and print figures.

Usage: python bench/run.py [NAME ...]   (NAME filters bench modules, e.g. `sequences`)
Each module has `run(report)`; `report.figure(...)` prints one line with the data size.
Uses DATABASE_URL's server if set, else the embedded PostgreSQL; the database is `telora_bench`
(TELORA_BENCH_DB names another, so that benches run side by side on one server).
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent


class Report:
    def __init__(self):
        self.rows: list[tuple[str, str, str]] = []

    def figure(self, name: str, value: float, unit: str, size: str = "") -> None:
        text = f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"
        line = f"  {name:<44} {text:>14} {unit:<10} {size}"
        print(line, flush=True)
        self.rows.append((name, text, unit))

    def latencies(self, name: str, seconds: list[float], size: str = "") -> None:
        ms = sorted(s * 1000 for s in seconds)
        q = statistics.quantiles(ms, n=100)
        self.figure(f"{name} p50", q[49], "ms", size)
        self.figure(f"{name} p95", q[94], "ms", size)
        self.figure(f"{name} p99", q[98], "ms", size)


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def copy_rows(cur, table: str, columns: list[str], rows) -> int:
    """COPY `rows` (tuples) into `table` with a psycopg cursor; the number of rows."""
    count = 0
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def next_id(cur, table: str) -> int:
    """The id after the table's highest (generated rows take ids from there)."""
    cur.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
    return cur.fetchone()[0]


def _bench_database_url() -> str:
    import psycopg

    base = os.environ.get("DATABASE_URL")
    if not base:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telora.settings")
        from telora.cli import start_database

        server = start_database()
        base = server.url
    name = os.environ.get("TELORA_BENCH_DB", "telora_bench")
    parts = urlsplit(base)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def run_module(path: Path) -> int:
    """One benchmark module on a fresh `telora_bench` database, in this process."""
    sys.path.insert(0, str(HERE))
    os.environ["DATABASE_URL"] = _bench_database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telora.settings")
    os.environ.setdefault("TELORA_INSECURE_COOKIES", "1")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print(f"\n{path.stem[6:]}: {module.__doc__.strip().splitlines()[0] if module.__doc__ else ''}", flush=True)
    module.run(Report())
    return 0


def main(argv: list[str]) -> int:
    """Each module in a process of its own on a fresh database: benchmarks make the same brands
    and data, and none inherits another's rows, caches or memory."""
    if argv[:1] == ["--module"]:
        return run_module(Path(argv[1]))
    modules = sorted(HERE.glob("bench_*.py"))
    if argv:
        modules = [m for m in modules if any(name in m.stem for name in argv)]
    print(f"Telora benchmarks on {os.cpu_count()} cores, database {os.environ.get('TELORA_BENCH_DB', 'telora_bench')}",
          flush=True)
    failed = [m.stem for m in modules
              if subprocess.run([sys.executable, str(Path(__file__).resolve()), "--module", str(m)]).returncode]
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
