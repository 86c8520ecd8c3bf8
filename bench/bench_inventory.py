"""Inventory: CSV import of SIM cards and numbers (COPY), re-import of the same files, next-free allocation."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from run import Timer

ROWS = 100_000


def _write_files(folder: Path) -> tuple[Path, Path]:
    from stdnum import luhn

    sims, numbers = folder / "sims.csv", folder / "numbers.csv"
    with sims.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["iccid", "imsi", "pin1", "puk1", "pin2", "puk2", "sim_type", "partner", "batch"])
        for n in range(ROWS):
            body = f"8931440400{n:08d}"
            writer.writerow([body + luhn.calc_check_digit(body), f"20408{n:010d}", "1234", f"{n:08d}", "5678",
                             f"{n + 1:08d}", "usim-4g" if n % 4 else "esim", "Wholesale BV", f"B{n // 10_000:03d}"])
    with numbers.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["number", "group"])
        for n in range(ROWS):
            writer.writerow([f"+3161{n:07d}", "gold" if n % 100 == 7 else "regular"])
    return sims, numbers


def run(report) -> None:
    from telora.core import clock
    from telora.core.services import Actor
    from telora.core.services.brands import create_brand
    from telora.inventory.services import (
        allocate_number,
        allocate_sim,
        create_number_group,
        import_numbers,
        import_sims,
    )

    system = Actor.system("bench")
    brand = create_brand(actor=system, at=clock.now(), code="inv", name="Inventory bench", currency="EUR",
                         timezone="Europe/Amsterdam", country="NL")
    create_number_group(brand, actor=system, at=clock.now(), code="regular", name="Regular")
    create_number_group(brand, actor=system, at=clock.now(), code="gold", name="Gold", one_time_price="49")
    size = f"{ROWS:,} rows"
    with tempfile.TemporaryDirectory() as tmp:
        sims, numbers = _write_files(Path(tmp))
        for label, importer, path in (("SIM cards", import_sims, sims), ("numbers", import_numbers, numbers)):
            with Timer() as t:
                result = importer(brand, path, actor=system, at=clock.now())
            assert result.imported == ROWS and result.ok, result.summary()
            report.figure(f"{label} imported (checked, COPY)", ROWS / t.seconds, "rows/s", size)
            with Timer() as t:
                again = importer(brand, path, actor=system, at=clock.now())
            assert again.unchanged == ROWS, again.summary()
            report.figure(f"{label} re-imported (all unchanged)", ROWS / t.seconds, "rows/s", size)

    timings = []
    for _ in range(500):
        with Timer() as t:
            allocate_sim(brand, actor=system, at=clock.now(), sim_type="esim")
        timings.append(t.seconds)
    report.latencies("next free SIM allocated (audited)", timings, size)
    timings = []
    for _ in range(500):
        with Timer() as t:
            allocate_number(brand, actor=system, at=clock.now())
        timings.append(t.seconds)
    report.latencies("next free number allocated (audited)", timings, size)
