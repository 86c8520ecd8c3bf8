"""Every write of the letters module (templates, triggers, the outbox, the print queue, invoice
delivery); each takes `actor` and `at` and records an audit event."""

from telora.letters.services.outbox import NoConsent, queue_letter, resend, send_due
from telora.letters.services.printing import make_batch, mark_printed
from telora.letters.services.templates import activate, save_template
from telora.letters.services.triggers import save_trigger

__all__ = ["NoConsent", "activate", "make_batch", "mark_printed", "queue_letter", "resend", "save_template",
           "save_trigger", "send_due"]
