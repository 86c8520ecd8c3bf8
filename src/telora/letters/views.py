"""Letters on screen: the outbox (filters, a letter's page, resend), templates (versions, edit with
preview), triggers, the print queue, and the Letters panel on the customer page (ad-hoc letters)."""

from __future__ import annotations

from telora.core import rights
from telora.letters.models import Letter


def customer_panel(request, customer):
    """The customer page's Letters card: everything sent to the customer, newest first."""
    user = request.user
    if not rights.has_perm(user, customer.brand, "letters.view"):
        return None
    return "letters/_panel.html", {
        "customer": customer,
        "letters": Letter.objects.filter(customer=customer).select_related("template")[:50],
        "can_send": rights.has_perm(user, customer.brand, "letters.send"),
    }
