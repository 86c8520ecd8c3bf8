"""Invoice HTML from a document: the default template's content, the sandbox, the contract checks.

The worked example (telora.billing.documents.sample.example_document, also in docs/billing.md) was
hand-computed: VAT lines 99.00 + 38.32 + 4.35 + 2.05 + 49.00 - 9.80 + 25.00 - 4.98 = 202.94, tax
25 % = 50.735 -> 50.74 (half-up); EXEMPT 10.00 at 0 %; net 212.94, total 263.68.
"""

import re

import pytest

from telora.billing.documents import (
    DocumentError,
    InvoiceTemplateError,
    check_document,
    file_name,
    render_html,
)
from telora.billing.documents.sample import example_document

PIXEL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def text(html: str) -> str:
    """The visible text of the HTML body, whitespace collapsed (the style block left out)."""
    body = html.split("<body>", 1)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()


def test_default_template_shows_the_worked_example():
    page = text(render_html(example_document()))
    for expected in [
        "Invoice", "INV-2026-000123", "Nov 1, 2026", "Nov 15, 2026", "Oct 1, 2026 – Oct 31, 2026",
        "C-1001 Jane Jensen", "A-1001-1", "Strandvejen 12", "2100 København Ø", "Denmark",
        "+45 20 00 00 01 · Mobile 10 GB", "+45 20 00 00 02 · Mobile Basic",
        "Service address: Anna Jensen, Skolegade 3, 8000 Aarhus C",
        # periods are half-open [start, end): the last day shown is the day before the end
        "Mobile 10 GB 11/1/26 – 11/30/26 1 99.00 €99.00 VAT",
        "Mobile 10 GB, 12 of 31 days 10/20/26 – 10/31/26 12 3.193548 €38.32 VAT", "1 99.00 €99.00 VAT", "-€9.80",
        "Subtotal €143.72", "Subtotal €74.20", "Subtotal -€4.98",
        # usage summary: 870 s = 0:14:30; 21,495,808 bytes / 1,048,576 = 20.50 MB
        "voice DK 3 0:14:30 €4.35", "data EU_ROAM 5 20.50 MB €2.05",
        "VAT 25% €202.94 €50.74", "EXEMPT 0% €10.00 €0.00",
        "Net €212.94", "Tax €50.74", "Total due €263.68",
        "Please pay €263.68 by Nov 15, 2026 (14 days) to IBAN DK5000400440116243, quoting INV-2026-000123.",
    ]:
        assert expected in page, expected
    assert "DRAFT" not in page
    assert "Credit note" not in page


def test_amounts_and_dates_follow_the_brand_language():
    document = example_document()
    document["brand"]["language"] = "da"
    page = text(render_html(document))
    assert "263,68 €" in page  # Danish: comma decimals, symbol after
    assert "1. nov. 2026" in page
    assert "Danmark" in page
    assert "VAT 25 % 202,94 € 50,74 €" in page


def test_a_brand_without_a_language_gets_english():
    document = example_document()
    del document["brand"]["language"]
    html = render_html(document)
    assert '<html lang="en">' in html and "Total due €263.68" in text(html)


def test_draft_has_a_watermark_and_no_number_or_payment_request():
    document = example_document()
    document["invoice"].update(number=None, draft=True)
    html = render_html(document)
    assert '<div class="watermark">DRAFT</div>' in html
    page = text(html)
    assert "Draft invoice" in page
    assert "it has no number and is not to be paid" in page
    assert "Please pay" not in page
    assert file_name(document) == "draft-A-1001-1-2026-10-01.pdf"


def credit_note() -> dict:
    """One account-level credit of -40.00 (VAT 25 %: -10.00), total -50.00."""
    document = example_document()
    document["sections"] = [{"subscription": None, "address": None, "usage": [], "total": "-40.00", "lines": [
        {"kind": "credit", "description": "Unused days of Mobile 10 GB", "period_start": "2026-10-20",
         "period_end": "2026-11-01", "quantity": "1", "unit_price": "-40.00", "amount": "-40.00", "tax_code": "VAT"}]}]
    document["taxes"] = [{"code": "VAT", "rate": "25", "net": "-40.00", "tax": "-10.00"}]
    document["invoice"].update(kind="credit_note", net="-40.00", tax="-10.00", total="-50.00",
                               number="INV-2026-000124")
    return document


def test_credit_note_wording():
    page = text(render_html(credit_note()))
    assert page.count("Credit note") >= 1
    assert "Total credited -€50.00" in page
    assert "This credit note of -€50.00 is set against your account; nothing is to be paid." in page
    assert "Please pay" not in page and "Due date" not in page


def test_brand_colours_and_logo():
    document = example_document()
    html = render_html(document, brand_assets={"logo": PIXEL})
    assert "color: #0b7a75;" in html
    assert f'<img class="logo" src="{PIXEL}" alt="Nordmobil">' in html
    # a colour that is not #RRGGBB cannot smuggle CSS in; the default is used
    document["brand"]["colours"]["primary"] = "red; } body { display: none"
    html = render_html(document)
    assert "display: none" not in html and "color: #206bc4;" in html
    # the logo is a data: URI of an image, nothing WeasyPrint would have to fetch
    with pytest.raises(InvoiceTemplateError, match="brand_assets.logo"):
        render_html(example_document(), brand_assets={"logo": "file:///etc/passwd"})


def test_document_text_is_escaped():
    document = example_document()
    document["sections"][0]["lines"][0]["description"] = "<script>alert(1)</script> & co"
    html = render_html(document)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html


def test_operator_template_extends_the_default_and_overrides_a_block():
    template = ('{% extends "billing/invoice/invoice.html.j2" %}'
                '{% block payment %}<p class="pay">Pay {{ invoice.total | money }} via MobilePay</p>{% endblock %}')
    html = render_html(example_document(), template=template)
    assert '<p class="pay">Pay €263.68 via MobilePay</p>' in html
    assert "Total due" in text(html)  # the rest of the default is kept
    assert "to IBAN" not in html


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__ }}",
    "{{ invoice.__class__.__subclasses__() }}",
    "{{ lipsum.__globals__ }}",
    "{% set x = sections.append(1) %}",
    "{{ invoice.update({'total': '0.00'}) }}",
    "{{ brand.missing_key }}",
    "{% include '/etc/passwd' %}",
])
def test_sandbox_refuses_unsafe_templates(source):
    document = example_document()
    with pytest.raises(InvoiceTemplateError):
        render_html(document, template=source)
    assert len(document["sections"]) == 3 and document["invoice"]["total"] == "263.68"


@pytest.mark.parametrize("change, field", [
    (lambda d: d["invoice"].update(total=263.68), "invoice.total"),
    (lambda d: d["sections"][0]["lines"][1].update(amount="38.3"), "sections[0].lines[1].amount"),
    (lambda d: d["sections"][0]["lines"][1].update(quantity=12.0), "sections[0].lines[1].quantity"),
    (lambda d: d["invoice"].update(total="263.69"), "invoice.total"),
    (lambda d: d["sections"][1].update(total="74.21"), "sections[1].total"),
    # 202.94 * 25 % = 50.735: half-up gives 50.74, so 50.73 (half-even or truncated) is refused
    (lambda d: (d["taxes"][0].update(tax="50.73"), d["invoice"].update(tax="50.73", total="263.67")), "taxes[0].tax"),
    (lambda d: d["sections"][1]["lines"][3].update(tax_code="REDUCED"), "taxes[1].net"),
    (lambda d: d["invoice"].update(kind="credit_note"), "invoice.kind"),
    (lambda d: d["invoice"].update(number=None), "invoice.number"),
    (lambda d: d["invoice"].update(currency="XXY"), "invoice.currency"),
    (lambda d: d["sections"][0]["lines"][0].update(kind="bonus"), "sections[0].lines[0].kind"),
    (lambda d: d.pop("taxes"), "taxes"),
    (lambda d: d["sections"][2]["lines"].append(dict(d["sections"][2]["lines"][0], amount="0.00", tax_code="ZERO")),
     "taxes"),
])
def test_contract_refuses_documents_that_do_not_add_up(change, field):
    document = example_document()
    check_document(document)
    change(document)
    with pytest.raises(DocumentError) as caught:
        render_html(document)
    assert caught.value.field == field


def test_currency_without_minor_unit():
    document = credit_note()
    document["invoice"].update(currency="JPY", net="-4000", tax="-1000", total="-5000")
    document["sections"][0]["lines"][0].update(unit_price="-4000", amount="-4000")
    document["sections"][0]["total"] = "-4000"
    document["taxes"][0].update(net="-4000", tax="-1000")
    assert "-¥5,000" in text(render_html(document))
    document["taxes"][0]["tax"] = "-1000.00"
    with pytest.raises(DocumentError, match="exactly 0 decimals"):
        check_document(document)
