"""Invoice PDFs through WeasyPrint: the text a reader sees, pages, and many PDFs in worker processes.

Few and small on purpose: WeasyPrint takes a good tenth of a second per invoice.
"""

import io
import re

from pypdf import PdfReader

from telora.billing.documents.pdf import render_many, render_pdf
from telora.billing.documents.sample import example_document

PIXEL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def pdf_text(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_pdf_of_the_worked_example():
    pdf = render_pdf(example_document(), brand_assets={"logo": PIXEL})
    assert pdf.startswith(b"%PDF-")
    pages, text = pdf_text(pdf)
    assert pages == 1
    for expected in ["Invoice", "INV-2026-000123", "Jane Jensen", "Strandvejen 12", "Subtotal €143.72",
                     "0:14:30", "20.50 MB", "VAT 25% €202.94 €50.74", "Total due €263.68",
                     "IBAN DK5000400440116243", "Page 1 / 1"]:
        assert expected in text, expected
    assert "/Subtype /Image" in pdf.decode("latin-1")  # the data: URI logo is embedded


def test_pdf_fetches_nothing_but_data_uris():
    template = ('{% extends "billing/invoice/invoice.html.j2" %}{% block header %}'
                '<img src="file:///etc/hostname"><img src="http://127.0.0.1:9/x.png">{% endblock %}')
    pdf = render_pdf(example_document(), template=template)
    assert "/Subtype /Image" not in pdf.decode("latin-1")
    assert "Total due €263.68" in pdf_text(pdf)[1]


def long_draft() -> dict:
    """A draft with 60 lines of 1.00 (VAT 25 %): net 60.00, tax 15.00, total 75.00, two pages."""
    document = example_document()
    lines = [{"kind": "one_time", "description": f"Item {n + 1}", "period_start": None, "period_end": None,
              "quantity": "1", "unit_price": "1.00", "amount": "1.00", "tax_code": "VAT"} for n in range(60)]
    document["sections"] = [{"subscription": None, "address": None, "usage": [], "total": "60.00", "lines": lines}]
    document["taxes"] = [{"code": "VAT", "rate": "25", "net": "60.00", "tax": "15.00"}]
    document["invoice"].update(number=None, draft=True, net="60.00", tax="15.00", total="75.00")
    document["account"]["number"] = "A-9"
    return document


def test_render_many_in_two_processes(tmp_path):
    broken = example_document()
    broken["invoice"].update(number="INV-2026-000125", total="263.69")  # does not add up
    second = example_document()
    second["invoice"]["number"] = "INV-2026-000124"
    calls = []
    result = render_many([example_document(), broken, long_draft(), second], tmp_path, workers=2,
                         progress=lambda done, total: calls.append((done, total)))
    assert sorted(calls) == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [path.name for path in result.written] == [
        "INV-2026-000123.pdf", "draft-A-9-2026-10-01.pdf", "INV-2026-000124.pdf"]
    assert [(index, name) for index, name, _ in result.failed] == [(1, "INV-2026-000125.pdf")]
    assert "invoice.total" in result.failed[0][2]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "INV-2026-000123.pdf", "INV-2026-000124.pdf", "draft-A-9-2026-10-01.pdf"]
    pages, text = pdf_text((tmp_path / "draft-A-9-2026-10-01.pdf").read_bytes())
    assert pages == 2
    assert "DRAFT" in text and "Item 60" in text and "Page 2 / 2" in text and "Total due €75.00" in text


def test_render_many_skips_files_already_written(tmp_path):
    (tmp_path / "INV-2026-000123.pdf").write_bytes(b"%PDF- kept")
    second = example_document()
    second["invoice"]["number"] = "INV-2026-000124"
    calls = []
    result = render_many([example_document(), second], tmp_path, workers=1, skip_existing=True,
                         progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)] and not result.failed
    assert [path.name for path in result.written] == ["INV-2026-000123.pdf", "INV-2026-000124.pdf"]
    assert (tmp_path / "INV-2026-000123.pdf").read_bytes() == b"%PDF- kept"
    assert (tmp_path / "INV-2026-000124.pdf").read_bytes().startswith(b"%PDF-1")
