"""The closed vocabularies of the customers app (plain tuples and dicts, no Django)."""

from telora.catalog.constants import SERVICE_TYPES

CUSTOMER_KINDS = ("private", "business")
CUSTOMER_STATUSES = ("active", "suspended", "closed")
ID_TYPES = ("passport", "id_card", "driving_licence", "residence_permit", "other")
CONTACT_ROLES = ("primary", "billing", "technical", "other")
ADDRESS_ROLES = ("legal", "billing", "shipping", "installation")

ACCOUNT_STATUSES = ("active", "closed")
INVOICE_DELIVERIES = ("email", "print")
PAYMENT_METHODS = ("invoice", "direct_debit", "card", "bank_transfer", "other")

SUBSCRIPTION_STATUSES = ("pending", "active", "suspended", "terminated")
# Allowed moves of a subscription's status; services refuse the rest.
SUBSCRIPTION_TRANSITIONS = {
    "pending": ("active", "terminated"),
    "active": ("suspended", "terminated"),
    "suspended": ("active", "terminated"),
    "terminated": (),
}
LIVE_STATUSES = ("pending", "active", "suspended")

# How a service type is identified: a phone number (history kept in NumberAssignment) or free text.
MOBILE_TYPES = ("mobile_prepaid", "mobile_postpaid")
NUMBER_TYPES = MOBILE_TYPES + ("fixed_line", "voip")
CIRCUIT_TYPES = ("broadband", "fiber")
INSTALLATION_TYPES = ("fixed_line", "broadband", "fiber", "tv")
assert set(NUMBER_TYPES + CIRCUIT_TYPES) <= set(SERVICE_TYPES)

INSTANCE_END_REASONS = ("plan_change", "removed", "terminated", "once")

# Uploaded files: what a CSR may attach to a customer (ID scans, contracts, letters).
FILE_MAX_BYTES = 10 * 1024 * 1024
FILE_CONTENT_TYPES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG image",
    "image/png": "PNG image",
    "image/gif": "GIF image",
    "image/tiff": "TIFF image",
    "text/plain": "plain text",
    "text/csv": "CSV",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.oasis.opendocument.text": "OpenDocument text",
}
