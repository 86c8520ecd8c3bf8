"""The fixed texts of an invoice (`labels` in a template) in the languages Telora prints invoices in.

An invoice is printed in the document's language: the customer's, else the brand's, else English
(`document_language`). A language without a table here gets English labels (amounts and dates are
still formatted by Babel in that language); a table that lacks a key falls back to English for it,
so a template never fails on a missing label. The wording is what invoices in each country say.
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

EN = {
    "invoice": "Invoice",
    "credit_note": "Credit note",
    "draft": "DRAFT",
    "draft_title": "Draft",
    "draft_invoice": "Draft invoice",
    "draft_credit_note": "Draft credit note",
    "number": "Number",
    "issue_date": "Date",
    "due_date": "Due date",
    "period": "Period",
    "customer": "Customer",
    "account": "Account",
    "account_lines": "Account",
    "plan": "Plan",
    "service_address": "Service address",
    "description": "Description",
    "quantity": "Qty",
    "unit_price": "Unit price",
    "amount": "Amount",
    "tax_code": "Tax",
    "usage": "Usage summary",
    "service": "Service",
    "zone": "Zone",
    "count": "Count",
    "subtotal": "Subtotal",
    "taxes": "Tax",
    "code": "Code",
    "rate": "Rate",
    "net": "Net",
    "tax": "Tax",
    "total": "Total",
    "total_due": "Total due",
    "total_credit": "Total credited",
    "payment": "Payment",
    "pay_by": "Please pay {amount} by {date} ({days} days) to IBAN {iban}, quoting {reference}.",
    "pay_by_no_iban": "Please pay {amount} by {date} ({days} days), quoting {reference}.",
    "credit_wording": "This credit note of {amount} is set against your account; nothing is to be paid.",
    "draft_wording": "This is a draft for checking: it has no number and is not to be paid.",
    "page": "Page",
}

DA = {
    "invoice": "Faktura",
    "credit_note": "Kreditnota",
    "draft": "UDKAST",
    "draft_title": "Udkast",
    "draft_invoice": "Udkast til faktura",
    "draft_credit_note": "Udkast til kreditnota",
    "number": "Nummer",
    "issue_date": "Dato",
    "due_date": "Forfaldsdato",
    "period": "Periode",
    "customer": "Kunde",
    "account": "Konto",
    "account_lines": "Konto",
    "plan": "Abonnement",
    "service_address": "Leveringsadresse",
    "description": "Beskrivelse",
    "quantity": "Antal",
    "unit_price": "Enhedspris",
    "amount": "Beløb",
    "tax_code": "Moms",
    "usage": "Forbrugsoversigt",
    "service": "Tjeneste",
    "zone": "Zone",
    "count": "Antal",
    "subtotal": "Subtotal",
    "taxes": "Moms",
    "code": "Kode",
    "rate": "Sats",
    "net": "Netto",
    "tax": "Moms",
    "total": "I alt",
    "total_due": "At betale",
    "total_credit": "Krediteret i alt",
    "payment": "Betaling",
    "pay_by": "Betal venligst {amount} senest {date} ({days} dage) til IBAN {iban}, og angiv {reference} "
              "ved betaling.",
    "pay_by_no_iban": "Betal venligst {amount} senest {date} ({days} dage), og angiv {reference} ved betaling.",
    "credit_wording": "Denne kreditnota på {amount} modregnes på din konto; du skal ikke betale noget.",
    "draft_wording": "Dette er et udkast til kontrol: det har intet nummer og skal ikke betales.",
    "page": "Side",
}

DE = {
    "invoice": "Rechnung",
    "credit_note": "Gutschrift",
    "draft": "ENTWURF",
    "draft_title": "Entwurf",
    "draft_invoice": "Rechnungsentwurf",
    "draft_credit_note": "Gutschriftsentwurf",
    "number": "Nummer",
    "issue_date": "Datum",
    "due_date": "Fällig am",
    "period": "Zeitraum",
    "customer": "Kunde",
    "account": "Konto",
    "account_lines": "Konto",
    "plan": "Tarif",
    "service_address": "Anschlussadresse",
    "description": "Beschreibung",
    "quantity": "Menge",
    "unit_price": "Einzelpreis",
    "amount": "Betrag",
    "tax_code": "USt.",
    "usage": "Verbrauchsübersicht",
    "service": "Dienst",
    "zone": "Zone",
    "count": "Anzahl",
    "subtotal": "Zwischensumme",
    "taxes": "Umsatzsteuer",
    "code": "Code",
    "rate": "Satz",
    "net": "Netto",
    "tax": "USt.",
    "total": "Gesamt",
    "total_due": "Zu zahlender Betrag",
    "total_credit": "Gutgeschriebener Betrag",
    "payment": "Zahlung",
    "pay_by": "Bitte überweisen Sie {amount} bis zum {date} ({days} Tage) auf das Konto IBAN {iban} unter "
              "Angabe von {reference}.",
    "pay_by_no_iban": "Bitte zahlen Sie {amount} bis zum {date} ({days} Tage) unter Angabe von {reference}.",
    "credit_wording": "Diese Gutschrift über {amount} wird mit Ihrem Konto verrechnet; Sie müssen nichts zahlen.",
    "draft_wording": "Dies ist ein Entwurf zur Prüfung: Er hat keine Nummer und ist nicht zu bezahlen.",
    "page": "Seite",
}

SV = {
    "invoice": "Faktura",
    "credit_note": "Kreditfaktura",
    "draft": "UTKAST",
    "draft_title": "Utkast",
    "draft_invoice": "Utkast till faktura",
    "draft_credit_note": "Utkast till kreditfaktura",
    "number": "Nummer",
    "issue_date": "Datum",
    "due_date": "Förfallodatum",
    "period": "Period",
    "customer": "Kund",
    "account": "Konto",
    "account_lines": "Konto",
    "plan": "Abonnemang",
    "service_address": "Anläggningsadress",
    "description": "Beskrivning",
    "quantity": "Antal",
    "unit_price": "À-pris",
    "amount": "Belopp",
    "tax_code": "Moms",
    "usage": "Förbrukningsöversikt",
    "service": "Tjänst",
    "zone": "Zon",
    "count": "Antal",
    "subtotal": "Delsumma",
    "taxes": "Moms",
    "code": "Kod",
    "rate": "Sats",
    "net": "Netto",
    "tax": "Moms",
    "total": "Totalt",
    "total_due": "Att betala",
    "total_credit": "Krediterat totalt",
    "payment": "Betalning",
    "pay_by": "Vänligen betala {amount} senast {date} ({days} dagar) till IBAN {iban} och ange {reference} "
              "vid betalning.",
    "pay_by_no_iban": "Vänligen betala {amount} senast {date} ({days} dagar) och ange {reference} vid betalning.",
    "credit_wording": "Denna kreditfaktura på {amount} dras av från ditt konto; du behöver inte betala något.",
    "draft_wording": "Detta är ett utkast för kontroll: det har inget nummer och ska inte betalas.",
    "page": "Sida",
}

NB = {
    "invoice": "Faktura",
    "credit_note": "Kreditnota",
    "draft": "UTKAST",
    "draft_title": "Utkast",
    "draft_invoice": "Utkast til faktura",
    "draft_credit_note": "Utkast til kreditnota",
    "number": "Nummer",
    "issue_date": "Dato",
    "due_date": "Forfallsdato",
    "period": "Periode",
    "customer": "Kunde",
    "account": "Konto",
    "account_lines": "Konto",
    "plan": "Abonnement",
    "service_address": "Leveringsadresse",
    "description": "Beskrivelse",
    "quantity": "Antall",
    "unit_price": "Enhetspris",
    "amount": "Beløp",
    "tax_code": "MVA",
    "usage": "Forbruksoversikt",
    "service": "Tjeneste",
    "zone": "Sone",
    "count": "Antall",
    "subtotal": "Delsum",
    "taxes": "Merverdiavgift",
    "code": "Kode",
    "rate": "Sats",
    "net": "Netto",
    "tax": "MVA",
    "total": "Totalt",
    "total_due": "Å betale",
    "total_credit": "Kreditert totalt",
    "payment": "Betaling",
    "pay_by": "Vennligst betal {amount} innen {date} ({days} dager) til IBAN {iban}, og oppgi {reference} "
              "ved betaling.",
    "pay_by_no_iban": "Vennligst betal {amount} innen {date} ({days} dager), og oppgi {reference} ved betaling.",
    "credit_wording": "Denne kreditnotaen på {amount} motregnes på kontoen din; du skal ikke betale noe.",
    "draft_wording": "Dette er et utkast til kontroll: det har ikke noe nummer og skal ikke betales.",
    "page": "Side",
}

# Norwegian: "no" and Nynorsk readers get Bokmål rather than English.
TABLES = {"en": EN, "da": DA, "de": DE, "sv": SV, "nb": NB, "no": NB, "nn": NB}
LANGUAGES = ("en", "da", "de", "sv", "nb")  # the ones with their own table (documented in docs/billing.md)


def _known(language) -> Locale | None:
    if not language or not isinstance(language, str):
        return None
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def document_language(document: dict) -> str:
    """The language an invoice is printed in: the customer's, else the brand's, else "en" (as Babel
    names it: "da", "de_AT", ...)."""
    for part in ("customer", "brand"):
        locale = _known((document.get(part) or {}).get("language"))
        if locale is not None:
            return str(locale)
    return "en"


def labels_for(language) -> dict:
    """Every label in `language` (a code such as "da" or "de_AT"); English for what has no table."""
    locale = _known(language)
    table = TABLES.get(locale.language if locale else "en", EN)
    return {**EN, **table}
