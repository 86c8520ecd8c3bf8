"""Channels, states and purposes of letters, and what a trigger's condition may compare."""

CHANNELS = ("email", "sms", "print")
TRIGGER_CHANNELS = CHANNELS + ("preferred",)  # "preferred": the customer's own choice (else e-mail)
PURPOSES = ("service", "marketing")
# queued -> sending -> sent -> delivered | bounced; failed (why in `error`); print: queued -> printed (sent)
STATES = ("queued", "sending", "sent", "delivered", "failed", "bounced")
OPEN_STATES = ("queued", "sending")
# the privacy app's consent purpose a marketing letter needs on each channel (print: none exists, so no
# marketing by post)
MARKETING_CONSENT = {"email": "marketing_email", "sms": "marketing_sms"}
OPERATORS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "missing")
EVENT_TYPES = (
    "customer.created", "customer.changed",
    "subscription.activated", "subscription.suspended", "subscription.resumed", "subscription.terminated",
    "subscription.plan_changed", "subscription.addon_added", "subscription.addon_removed",
    "subscription.sim_swapped", "subscription.number_changed",
    "invoice.issued", "invoice.credit_note_issued", "billrun.finished",
    "balance.low", "balance.zero", "balance.topped_up", "renewal.skipped", "bundle.used_80", "bundle.used_100",
)
MAX_TRIES = 6  # then the letter stays failed until someone resends it
