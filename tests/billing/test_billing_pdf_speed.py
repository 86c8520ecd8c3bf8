"""The shortcuts that make invoice PDFs quicker must not change them: the template's stylesheet
parsed once, the cycle collector paused during a render."""

import gc
import io

from pypdf import PdfReader
from weasyprint import HTML

from telora.billing.documents import pdf as pdf_module
from telora.billing.documents.pdf import html_to_pdf, render_html
from telora.billing.documents.sample import example_document


def contents(pdf: bytes) -> list[bytes]:
    return [page.get_contents().get_data() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_stylesheet_parsed_once_and_the_pdf_drawn_as_with_the_style_inline():
    html = render_html(example_document())
    stripped, css, _counters = pdf_module._own_stylesheet(html)
    assert css is not None and "<style>" not in stripped
    again = pdf_module._own_stylesheet(render_html(example_document()))[1]
    assert again is css  # the same text: parsed once, kept
    plain = HTML(string=html, url_fetcher=pdf_module._fetcher()).write_pdf()
    assert contents(html_to_pdf(html)) == contents(plain)  # same drawing: colours, positions, "Page 1 / 1"


def test_template_with_other_style_sources_keeps_its_own_cascade():
    template = ('{% extends "billing/invoice/invoice.html.j2" %}'
                '{% block payment %}<div class="payment" style="color: #ff0000">Pay</div>{% endblock %}')
    html = render_html(example_document(), template=template)
    assert pdf_module._own_stylesheet(html) == (html, None, None)
    plain = HTML(string=html, url_fetcher=pdf_module._fetcher()).write_pdf()
    assert contents(html_to_pdf(html)) == contents(plain)


def test_collector_state_is_given_back():
    html = render_html(example_document())
    assert gc.isenabled()
    html_to_pdf(html)
    assert gc.isenabled()
    gc.disable()
    try:
        html_to_pdf(html)
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()
