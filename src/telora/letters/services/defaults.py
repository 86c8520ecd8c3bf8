"""The templates a new brand starts from (welcome e-mail, low-balance SMS, invoice e-mail and letter,
the final e-mail of a cancellation), and the triggers that use them: installed by the demo or by
`install_defaults`, then edited. The shipped order flows send `welcome` and `final` through the
`letters.send` task; tests/letters/test_letters_defaults.py fails when a flow names a code with no
default here.

The texts are written in English and Danish (TRANSLATIONS); a brand gets them in its language when
there is a translation, else in English (labelled `en`, so they say what language they are in)."""

from __future__ import annotations

import datetime as dt

from telora.core.services.actors import Actor
from telora.letters.models import LetterTemplate, Trigger
from telora.letters.services.templates import save_template
from telora.letters.services.triggers import save_trigger

TEMPLATES = [
    {"code": "welcome", "channel": "email", "name": "Welcome",
     "subject": "Welcome to {{ brand.name }}, {{ customer.first_name or customer.name }}",
     "text": "Hello {{ customer.first_name or customer.name }},\n\nwelcome to {{ brand.name }}. Your customer number "
             "is {{ customer.number }}.\n\n{{ brand.name }}",
     "html": "<p>Hello {{ customer.first_name or customer.name }},</p><p>welcome to {{ brand.name }}. Your customer "
             "number is <b>{{ customer.number }}</b>.</p><p>{{ brand.name }}</p>"},
    {"code": "final", "channel": "email", "name": "Final letter (cancellation)",
     "subject": "Your {{ brand.name }} line {{ subscription.identifier }} has ended",
     "text": "Hello {{ customer.first_name or customer.name }},\n\nyour line {{ subscription.identifier }} with "
             "{{ brand.name }} has ended as you asked. Your last invoice follows; thank you for being our "
             "customer.\n\n{{ brand.name }}",
     "html": "<p>Hello {{ customer.first_name or customer.name }},</p><p>your line <b>{{ subscription.identifier }}"
             "</b> with {{ brand.name }} has ended as you asked. Your last invoice follows; thank you for being "
             "our customer.</p><p>{{ brand.name }}</p>"},
    {"code": "balance-low", "channel": "sms", "name": "Low balance",
     "text": "{{ brand.name }}: your balance on {{ subscription.identifier }} is "
             "{{ balance.amount|money(balance.currency, customer.language) }}. Top up to keep calling."},
    {"code": "invoice", "channel": "email", "name": "Invoice", "attachments": ["invoice_pdf"],
     "subject": "Your {{ brand.name }} invoice {{ invoice.number }}",
     "text": "Hello {{ customer.name }},\n\nyour invoice {{ invoice.number }} of "
             "{{ invoice.total|money(invoice.currency, customer.language) }} is attached; it is due on "
             "{{ invoice.due_date|date(customer.language) }}.\n\n{{ brand.name }}"},
    {"code": "invoice", "channel": "print", "name": "Invoice cover letter", "attachments": ["invoice_pdf"],
     "subject": "Invoice {{ invoice.number }}",
     "html": "<p>Dear {{ customer.name }},</p><p>please find your invoice {{ invoice.number }} of "
             "{{ invoice.total|money(invoice.currency, customer.language) }} enclosed, due on "
             "{{ invoice.due_date|date(customer.language) }}.</p><p>Kind regards,<br>{{ brand.name }}</p>"},
]
# The same templates in other languages: (code, channel) -> the parts that differ from English.
TRANSLATIONS = {
    "da": {
        ("welcome", "email"): {
            "name": "Velkomst",
            "subject": "Velkommen til {{ brand.name }}, {{ customer.first_name or customer.name }}",
            "text": "Hej {{ customer.first_name or customer.name }},\n\nvelkommen til {{ brand.name }}. Dit kundenummer "
                    "er {{ customer.number }}.\n\nVenlig hilsen\n{{ brand.name }}",
            "html": "<p>Hej {{ customer.first_name or customer.name }},</p><p>velkommen til {{ brand.name }}. Dit "
                    "kundenummer er <b>{{ customer.number }}</b>.</p><p>Venlig hilsen<br>{{ brand.name }}</p>"},
        ("final", "email"): {
            "name": "Afsluttende brev (opsigelse)",
            "subject": "Dit abonnement {{ subscription.identifier }} hos {{ brand.name }} er afsluttet",
            "text": "Hej {{ customer.first_name or customer.name }},\n\ndit abonnement {{ subscription.identifier }} "
                    "hos {{ brand.name }} er nu afsluttet, som du bad om. Din sidste faktura kommer separat; tak "
                    "fordi du var kunde hos os.\n\nVenlig hilsen\n{{ brand.name }}",
            "html": "<p>Hej {{ customer.first_name or customer.name }},</p><p>dit abonnement <b>"
                    "{{ subscription.identifier }}</b> hos {{ brand.name }} er nu afsluttet, som du bad om. Din "
                    "sidste faktura kommer separat; tak fordi du var kunde hos os.</p><p>Venlig hilsen<br>"
                    "{{ brand.name }}</p>"},
        ("balance-low", "sms"): {
            "name": "Lav saldo",
            "text": "{{ brand.name }}: du har {{ balance.amount|money(balance.currency, customer.language) }} "
                    "tilbage på {{ subscription.identifier }}. Tank op, så du kan blive ved med at ringe."},
        ("invoice", "email"): {
            "name": "Faktura",
            "subject": "Din faktura {{ invoice.number }} fra {{ brand.name }}",
            "text": "Hej {{ customer.name }},\n\nhermed din faktura {{ invoice.number }} på "
                    "{{ invoice.total|money(invoice.currency, customer.language) }} (vedhæftet som PDF). Den "
                    "forfalder til betaling {{ invoice.due_date|date(customer.language) }}.\n\nVenlig hilsen\n"
                    "{{ brand.name }}"},
        ("invoice", "print"): {
            "name": "Følgebrev til faktura",
            "subject": "Faktura {{ invoice.number }}",
            "html": "<p>Kære {{ customer.name }},</p><p>hermed din faktura {{ invoice.number }} på "
                    "{{ invoice.total|money(invoice.currency, customer.language) }}, som forfalder til betaling "
                    "{{ invoice.due_date|date(customer.language) }}.</p><p>Med venlig hilsen<br>{{ brand.name }}</p>"},
    },
}


def localised(spec: dict, language: str) -> tuple[dict, str]:
    """The template `spec` in `language` when there is a translation (English for "en"), else in
    English; returns (parts, the language they are in)."""
    translated = TRANSLATIONS.get(language, {}).get((spec["code"], spec["channel"]))
    if translated is not None:
        return {**spec, **translated}, language
    return dict(spec), "en"


TRIGGERS = [
    {"name": "Welcome new customers", "event_type": "customer.created", "template_code": "welcome",
     "channel": "email"},
    {"name": "Low balance SMS", "event_type": "balance.low", "template_code": "balance-low", "channel": "sms"},
]


def install_defaults(brand, *, actor: Actor, at: dt.datetime) -> int:
    """Add the templates and triggers the brand does not have yet; returns how many were added."""
    added = 0
    for spec in TEMPLATES:
        if not LetterTemplate.objects.filter(brand=brand, code=spec["code"], channel=spec["channel"]).exists():
            parts, language = localised(spec, brand.language)
            save_template(brand, actor=actor, at=at, language=language, **parts)
            added += 1
    for spec in TRIGGERS:
        if not Trigger.objects.filter(brand=brand, event_type=spec["event_type"],
                                      template_code=spec["template_code"]).exists():
            save_trigger(brand, actor=actor, at=at, **spec)
            added += 1
    return added
