"""Invoice labels in the customer's language (else the brand's, else English): complete tables for
en, da, de, sv and nb, the wording each language prints, and a Danish customer's invoice PDF saying
"Faktura" while an English-speaking customer of the same brand gets "Invoice"."""

import io
import re
import string

import pytest
import time_machine
from billing_helpers import cph
from pypdf import PdfReader

from telora.billing.documents.labels import EN, LANGUAGES, TABLES, document_language, labels_for
from telora.billing.documents.sample import example_document
from telora.billing.documents.templating import render_html
from telora.billing.models import Invoice
from telora.billing.services import execute_run, start_run
from telora.billing.services.pdfs import render_invoice_pdf

pytestmark = pytest.mark.usefixtures("nord_kept")

AT = "2026-04-02T06:00"


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&nbsp;", " ").strip()


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def fields(wording: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(wording) if name}


def in_language(language, **invoice):
    document = example_document()
    document["customer"]["language"] = language
    document["invoice"].update(invoice)
    return document


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_label_with_the_same_placeholders(language):
    table = TABLES[language]
    assert set(table) == set(EN)
    for key, wording in table.items():
        assert wording.strip() and fields(wording) == fields(EN[key]), (language, key)
    if language != "en":
        assert table["invoice"] != EN["invoice"] and table["total_due"] != EN["total_due"]


def test_the_language_is_the_customers_else_the_brands_else_english():
    document = example_document()
    document["brand"]["language"] = "de"
    document["customer"]["language"] = "sv"
    assert document_language(document) == "sv"
    document["customer"]["language"] = "xx-nonsense"  # not a language: the brand's
    assert document_language(document) == "de"
    del document["customer"]["language"]
    assert document_language(document) == "de"
    del document["brand"]["language"]
    assert document_language(document) == "en"
    assert labels_for("no")["invoice"] == "Faktura" and labels_for("nb_NO")["total_due"] == "Å betale"
    assert labels_for("fr") == EN  # no French table: English labels (Babel still formats in French)
    assert labels_for("de_AT")["invoice"] == "Rechnung"


@pytest.mark.parametrize("language, expected", [
    ("da", ["Faktura INV-2026-000123", "Forfaldsdato 15. nov. 2026", "Beskrivelse", "Enhedspris", "Beløb",
            "Subtotal 143,72 €", "Forbrugsoversigt", "At betale 263,68 €",
            "Betal venligst 263,68 € senest 15. nov. 2026 (14 dage) til IBAN DK5000400440116243, og angiv "
            "INV-2026-000123 ved betaling."]),
    ("de", ["Rechnung INV-2026-000123", "Fällig am 15.11.2026", "Zwischensumme 143,72 €", "Einzelpreis",
            "Zu zahlender Betrag 263,68 €", "Bitte überweisen Sie 263,68 € bis zum 15.11.2026 (14 Tage) auf das "
            "Konto IBAN DK5000400440116243 unter Angabe von INV-2026-000123."]),
    ("sv", ["Faktura INV-2026-000123", "Förfallodatum 15 nov. 2026", "Delsumma 143,72 €", "Att betala 263,68 €",
            "Vänligen betala 263,68 € senast 15 nov. 2026 (14 dagar)"]),
    ("nb", ["Faktura INV-2026-000123", "Forfallsdato 15. nov. 2026", "Delsum 143,72 €", "Å betale 263,68 €",
            "Vennligst betal 263,68 € innen 15. nov. 2026 (14 dager)"]),
    ("en", ["Invoice INV-2026-000123", "Due date Nov 15, 2026", "Total due €263.68"]),
])
def test_an_invoice_in_each_language(language, expected):
    html = render_html(in_language(language))
    assert f'<html lang="{language}">' in html
    page = text(html).replace("\xa0", " ").replace("\u202f", " ")
    for wording in expected:
        assert wording in page, (language, wording)
    if language != "en":
        assert "Total due" not in page and "Please pay" not in page


@pytest.mark.parametrize("language, title, wording", [
    ("da", "Udkast til faktura", "Dette er et udkast til kontrol"),
    ("de", "Rechnungsentwurf", "Dies ist ein Entwurf zur Prüfung"),
    ("sv", "Utkast till faktura", "Detta är ett utkast för kontroll"),
    ("nb", "Utkast til faktura", "Dette er et utkast til kontroll"),
])
def test_drafts_in_each_language(language, title, wording):
    html = render_html(in_language(language, number=None, draft=True))
    page = text(html)
    assert f"<h1>{title}</h1>" in html and wording in page
    assert f'<div class="watermark">{labels_for(language)["draft"]}</div>' in html


@pytest.mark.django_db
def test_a_danish_customers_invoice_says_faktura(nord, account_for, subscribe, system):
    from telora.customers.models import Customer

    danish, english, german = (account_for(name) for name in ("Dansk Kunde", "English Customer", "Deutsch Kunde"))
    Customer.objects.filter(pk=english.customer_id).update(language="en")
    Customer.objects.filter(pk=german.customer_id).update(language="de")
    for account in (danish, english, german):
        subscribe(account, "2026-03-11")
    with time_machine.travel(cph(AT), tick=False):
        run = execute_run(start_run(nord, "M01", "2026-03", (), "production", actor=system, at=cph(AT)),
                          at=cph(AT))
    invoices = {i.account_id: i for i in Invoice.objects.filter(run=run).select_related("brand")}
    first = invoices[danish.pk]
    assert first.document["customer"]["language"] == "da" and first.document["brand"]["language"] == "da"

    page = pdf_text(render_invoice_pdf(first))
    for wording in ("Faktura", "Forfaldsdato", "Beskrivelse", "At betale", "Betal venligst", "Side 1 / 1"):
        assert wording in page, wording
    assert "Invoice" not in page and "Total due" not in page
    assert "Total due" in pdf_text(render_invoice_pdf(invoices[english.pk]))
    german_page = pdf_text(render_invoice_pdf(invoices[german.pk]))
    assert "Rechnung" in german_page and "Zu zahlender Betrag" in german_page
