"""Shared by the customer GUI tests: logged-in clients, the people who use the screens, form errors."""

from django.test import Client

from telora.core.middleware import SESSION_BRAND_KEY

VIEW = ["customers.view"]
CSR = ["customers.view", "customers.change"]
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def login(user, brand=None) -> Client:
    """A test client logged in as `user`, working in `brand`."""
    client = Client()
    client.force_login(user)
    if brand is not None:
        session = client.session
        session[SESSION_BRAND_KEY] = brand.pk
        session.save()
    return client


def form_errors(response) -> dict:
    """{field: [messages]} of the response's form, with "__all__" for those of no field."""
    return {name: list(errors) for name, errors in response.context["form"].errors.items()}


def mobile_sale(account, **values) -> dict:
    """The POST of the sale form for a postpaid mobile line with the next free SIM and number."""
    return {"service_type": "mobile_postpaid", "billing_account": account.pk, "plan": "MOB_POST_BASIC",
            "sim_choice": "next", "sim_type": "", "number_choice": "next", "number_group": "", "activate": "on",
            **values}
