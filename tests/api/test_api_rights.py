"""The rights matrix, API half: what a key or user of one brand may see and do in another."""

import pytest

from telora.core.models import User

USERS_ONLY = ["users.view", "users.change", "users.grant"]  # the whole users area


@pytest.fixture
def people(make_user, brand_a, brand_b):
    """A partner admin of brand B holding only the users area, and one user in each brand."""
    return {
        "partner": make_user("partner", {brand_b: USERS_ONLY}),
        "alice": make_user("alice", {brand_a: ["audit.view"]}, password=None),
        "bob": make_user("bob", {brand_b: ["users.view"]}, password=None),
    }


@pytest.fixture(params=["key", "session"])
def partner_client(request, people, brand_b, key_client, session_client):
    """The brand B partner admin, once through an API key and once through a GUI session."""
    if request.param == "key":
        return key_client(people["partner"], [brand_b], USERS_ONLY)
    return session_client(people["partner"])


def usernames(response):
    return [u["username"] for u in response.json()]


def test_lists_only_users_of_own_brand(partner_client):
    response = partner_client.get("/api/v1/users")
    assert response.status_code == 200
    assert usernames(response) == ["bob", "partner"]


def test_user_of_another_brand_is_not_found(partner_client, people):
    assert partner_client.get(f"/api/v1/users/{people['alice'].pk}").status_code == 404
    assert partner_client.patch(f"/api/v1/users/{people['alice'].pk}", {"email": "x@y.test"}).status_code == 404
    assert partner_client.get(f"/api/v1/users/{people['bob'].pk}").status_code == 200


def test_not_found_looks_the_same_as_a_user_that_does_not_exist(partner_client, people):
    hidden = partner_client.get(f"/api/v1/users/{people['alice'].pk}").json()
    missing = partner_client.get("/api/v1/users/999999").json()
    assert hidden == missing


def test_an_area_the_principal_lacks_is_forbidden(partner_client):
    response = partner_client.get("/api/v1/audit-events")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_brands_are_only_those_held(partner_client):
    assert [b["code"] for b in partner_client.get("/api/v1/brands").json()] == ["bravo"]
    assert partner_client.get("/api/v1/brands/alpha").status_code == 404
    assert partner_client.get("/api/v1/brands/bravo").json()["currency"] == "GBP"


def test_a_key_scoped_to_one_brand_cannot_see_another_even_if_its_owner_can(
    make_user, brand_a, brand_b, key_client, session_client
):
    owner = make_user("owner", {brand_a: USERS_ONLY, brand_b: USERS_ONLY})
    alice = make_user("alice", {brand_a: ["users.view"]}, password=None)
    assert "alice" in usernames(session_client(owner).get("/api/v1/users"))

    key = key_client(owner, [brand_b], USERS_ONLY)
    assert usernames(key.get("/api/v1/users")) == ["owner"]
    assert key.get(f"/api/v1/users/{alice.pk}").status_code == 404
    assert [b["code"] for b in key.get("/api/v1/brands").json()] == ["bravo"]
    assert key.get("/api/v1/users", brand="alpha").json() == []


def test_a_key_is_narrowed_to_its_permissions(make_user, brand_b, key_client):
    owner = make_user("owner", {brand_b: ["users.view", "users.change", "audit.view"]})
    key = key_client(owner, [brand_b], ["audit.view"])
    assert key.get("/api/v1/audit-events").status_code == 200
    assert key.get("/api/v1/users").status_code == 403


def test_a_superusers_key_is_still_scoped_to_its_brands(admin_user, make_user, brand_a, brand_b, key_client):
    alice = make_user("alice", {brand_a: ["users.view"]}, password=None)
    key = key_client(admin_user, [brand_b], ["users.view"])
    assert key.get(f"/api/v1/users/{alice.pk}").status_code == 404
    assert key.get("/api/v1/whoami").json()["brands"] == [
        {"code": "bravo", "name": "Bravo Telecom", "permissions": ["users.view"]}
    ]


def test_a_system_admin_session_sees_every_brand_and_user(admin_user, people, session_client):
    client = session_client(admin_user)
    assert [b["code"] for b in client.get("/api/v1/brands").json()] == ["alpha", "bravo"]
    assert client.get(f"/api/v1/users/{people['alice'].pk}").status_code == 200


def test_view_without_change_cannot_write(make_user, brand_b, people, key_client):
    viewer = key_client(people["partner"], [brand_b], ["users.view"])
    response = viewer.patch(f"/api/v1/users/{people['bob'].pk}", {"first_name": "Robert"})
    assert response.status_code == 403
    assert viewer.post("/api/v1/users", {"username": "x", "grants": []}).status_code == 403


def test_no_one_hands_out_more_than_they_hold(people, brand_b, key_client, make_role):
    make_role("Auditor", ["audit.view"], brand=brand_b)
    partner = key_client(people["partner"], [brand_b], USERS_ONLY)
    response = partner.post("/api/v1/users", {"username": "eve", "grants": [{"brand": "bravo", "role": "Auditor"}]})
    assert response.status_code == 403
    assert response.json()["message"] == "You cannot hand out rights you do not hold: audit.view."
    assert not User.objects.filter(username="eve").exists()
