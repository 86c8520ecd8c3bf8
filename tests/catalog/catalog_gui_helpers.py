"""Shared by the catalogue GUI tests: logged-in clients and the people who use the screens."""

from django.test import Client

from telora.core.middleware import SESSION_BRAND_KEY

VIEW = ["catalog.view"]
EDIT = ["catalog.view", "catalog.change"]
ALL = ["catalog.view", "catalog.change", "catalog.apply"]


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


def row_errors(response, rows: str) -> list[dict]:
    return [dict(form.errors) for form in response.context["form"].rowsets[rows].forms]


def rows(prefix: str, items: list[dict], initial: int = 0) -> dict:
    """POST data of a form's child rows (`one_time`, `bands`...): the management form and each row."""
    data = {f"{prefix}-TOTAL_FORMS": str(len(items)), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for index, item in enumerate(items):
        for key, value in item.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data
