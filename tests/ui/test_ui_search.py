"""The global search: its registry, core's providers, the results page and the HTMX dropdown."""

import pytest
from django.urls import reverse

from telora.ui import search
from telora.ui.search import SearchResult, register_search_provider

pytestmark = pytest.mark.django_db


def test_search_finds_users_by_name_and_email_but_never_another_brands(
        partner_admin, make_user, brand_a, brand_b, client_for):
    make_user("bob", {brand_b: ["users.view"]}, first_name="Bob", last_name="Marsh")
    make_user("bobby", {brand_a: ["users.view"]}, first_name="Bobby", last_name="Alpha")
    client = client_for(partner_admin)

    labels = [r.label for r in client.get(reverse("ui:search"), {"q": "bob"}).context["results"]]
    assert "Bob Marsh (bob)" in labels
    assert not any("bobby" in label for label in labels)

    by_email = client.get(reverse("ui:search"), {"q": "bobby@example"}).context["results"]
    assert by_email == []
    by_full_name = client.get(reverse("ui:search"), {"q": "marsh bob"}).context["results"]
    assert [r.label for r in by_full_name] == ["Bob Marsh (bob)"]


def test_search_finds_brands_one_holds(partner_admin, brand_a, brand_b, client_for):
    results = client_for(partner_admin).get(reverse("ui:search"), {"q": "bra"}).context["results"]
    assert [(r.kind, r.label) for r in results if r.kind == "Brands"] == [("Brands", "Bravo Telecom")]
    results = client_for(partner_admin).get(reverse("ui:search"), {"q": "alpha"}).context["results"]
    assert results == []


def test_short_queries_find_nothing(partner_admin, client_for):
    response = client_for(partner_admin).get(reverse("ui:search"), {"q": "b"})
    assert response.context["results"] == []
    assert "at least 2 characters" in response.content.decode()


def test_htmx_gets_the_dropdown_only(partner_admin, client_for):
    response = client_for(partner_admin).get(reverse("ui:search"), {"q": "bea"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html
    assert "dropdown-menu" in html
    assert reverse("ui:user_detail", args=[partner_admin.pk]) in html


def test_apps_register_their_own_providers(partner_admin, client_for):
    """How a domain app (customers: number, MSISDN, ICCID...) plugs in."""

    def numbers(user, brand, query):
        if query.startswith("+31"):
            yield SearchResult(label=query, detail=brand.code, url="/customers/1/", kind="Customers", icon="phone")

    register_search_provider(numbers, order=10)
    try:
        results = client_for(partner_admin).get(reverse("ui:search"), {"q": "+3161234"}).context["results"]
        assert results[0] == SearchResult(label="+3161234", detail="bravo", url="/customers/1/", kind="Customers",
                                          icon="phone")
    finally:
        search._PROVIDERS.pop(f"{numbers.__module__}.{numbers.__qualname__}")


def test_search_needs_login(client):
    assert client.get(reverse("ui:search"), {"q": "root"}).status_code == 302
