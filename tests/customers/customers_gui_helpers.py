"""Shared by the customer GUI tests: the people who use the screens, a PDF and the sale form
(logged-in clients and form errors: tests/gui_helpers.py)."""

VIEW = ["customers.view"]
CSR = ["customers.view", "customers.change"]
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def mobile_sale(account, **values) -> dict:
    """The POST of the sale form for a postpaid mobile line with the next free SIM and number."""
    return {"service_type": "mobile_postpaid", "billing_account": account.pk, "plan": "MOB_POST_BASIC",
            "sim_choice": "next", "sim_type": "", "number_choice": "next", "number_group": "", "activate": "on",
            **values}
