"""Shared by the GUI tests of every area: logged-in test clients and the errors of a response's form."""

from django.test import Client

from telora.core.middleware import SESSION_BRAND_KEY


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
