"""Invoice outputs: PDFs/s with WeasyPrint on both cores, and the flat files (no database).

Documents are generated (telora.billing.documents.sample.generated_document): 2 subscriptions of 4
lines and a usage summary each, the worked example's brand and address. The PDF figure is
render_many with 2 worker processes, pool start included, for 200 invoices (target 50/s).
WeasyPrint subsets fonts with HarfBuzz when libharfbuzz-subset0 is installed and with fontTools
(about twice as slow) when not; the figure's size column says which.

Run alone: python bench/bench_billing_pdf.py  (or through `make bench`, which ignores the DB here).
"""

from __future__ import annotations

import gc
import io
import os
import sys
import tempfile
from pathlib import Path

from run import Timer

PDF_INVOICES = 200
FLAT_INVOICES = 20_000


def _subsetter() -> str:
    try:
        from weasyprint.text.ffi import harfbuzz_subset
    except ImportError:
        harfbuzz_subset = None
    return "HarfBuzz subset" if harfbuzz_subset else "fontTools subset"


def run(report) -> None:
    from telora.billing.documents import write_csv, write_json
    from telora.billing.documents.pdf import render_many, render_pdf
    from telora.billing.documents.sample import generated_document

    documents = [generated_document(i, subscriptions=2) for i in range(PDF_INVOICES)]
    render_pdf(documents[0])  # load WeasyPrint and fontconfig in this process
    gc.collect()
    with Timer() as t:
        for document in documents[:20]:
            render_pdf(document)
    report.figure("invoice PDFs, 1 process", 20 / t.seconds, "PDFs/s", f"20 invoices, {_subsetter()}")
    with tempfile.TemporaryDirectory() as folder, Timer() as t:
        result = render_many(documents, folder, workers=2)
    assert len(result.written) == PDF_INVOICES and not result.failed, result.failed[:3]
    report.figure("invoice PDFs, 2 worker processes", PDF_INVOICES / t.seconds, "PDFs/s",
                  f"{PDF_INVOICES} invoices x 2 subscriptions, pool start included, {_subsetter()}")

    flat = [generated_document(i, subscriptions=2) for i in range(FLAT_INVOICES)]
    gc.collect()
    with Timer() as t:
        rows = write_csv(flat, io.StringIO(newline=""))
    report.figure("invoice CSV (one row per line)", FLAT_INVOICES / t.seconds, "invoices/s",
                  f"{FLAT_INVOICES:,} invoices, {rows:,} rows")
    with Timer() as t:
        write_json(flat, io.StringIO())
    report.figure("invoice JSON Lines", FLAT_INVOICES / t.seconds, "invoices/s", f"{FLAT_INVOICES:,} invoices")


if __name__ == "__main__":
    from run import Report

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    print(f"Invoice outputs on {os.cpu_count()} cores (no database)")
    run(Report())
