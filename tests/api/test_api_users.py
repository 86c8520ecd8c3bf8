"""The users endpoints: reading, filtering, creating with grants, changing, and the audit trail."""

import pytest

from telora.core.models import AuditEvent, User

ADMIN_PERMS = ["users.view", "users.change", "users.grant"]


@pytest.fixture
def partner(make_user, brand_b):
    return make_user("partner", {brand_b: ADMIN_PERMS})


@pytest.fixture
def partner_key(partner, brand_b, make_key):
    return make_key(partner, [brand_b], ADMIN_PERMS)


@pytest.fixture
def client(partner_key, token_client):
    return token_client(partner_key[1])


def test_a_user_is_rendered_with_grants_in_visible_brands_only(make_user, brand_a, brand_b, client):
    both = make_user("both", {brand_a: ["audit.view"], brand_b: ["users.view"]}, password=None,
                     first_name="Bo", last_name="Th")
    body = client.get(f"/api/v1/users/{both.pk}").json()
    assert body["username"] == "both"
    assert (body["first_name"], body["last_name"], body["email"]) == ("Bo", "Th", "both@example.test")
    assert body["is_active"] is True and body["is_system_admin"] is False
    assert [grant["brand"] for grant in body["grants"]] == ["bravo"]


def test_users_filter_by_brand_and_text(make_user, brand_a, brand_b, admin_user, session_client):
    make_user("carol", {brand_a: ["users.view"]}, password=None, last_name="Smith")
    make_user("dave", {brand_b: ["users.view"]}, password=None)
    make_user("erin", {brand_a: ["users.view"], brand_b: ["users.view"]}, password=None, first_name="Smithy")
    client = session_client(admin_user)

    def names(**params):
        return [u["username"] for u in client.get("/api/v1/users", **params).json()]

    assert names(brand="alpha") == ["carol", "erin"]
    assert names(brand="bravo") == ["dave", "erin"]
    assert names(q="smith") == ["carol", "erin"]
    assert names(q="SMITH", brand="bravo") == ["erin"]
    assert names(q="dave@example") == ["dave"]
    assert names(brand="nope") == []


def test_create_a_user_with_a_role(client, make_role, brand_b, partner_key):
    make_role("CSR", ["users.view"], brand=brand_b)
    response = client.post("/api/v1/users", {
        "username": "frank", "email": "frank@bravo.test", "first_name": "Frank",
        "grants": [{"brand": "bravo", "role": "CSR"}],
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["grants"] == [{"brand": "bravo", "role": "CSR"}]
    assert response["Location"] == f"/api/v1/users/{body['id']}"
    frank = User.objects.get(username="frank")
    assert not frank.has_usable_password()
    created = AuditEvent.objects.for_object(frank).get(action="create")
    assert created.actor_api_key == partner_key[0]


def test_a_platform_role_can_be_granted(client, make_role):
    make_role("Viewer", ["users.view"])
    response = client.post("/api/v1/users", {"username": "gina", "grants": [{"brand": "bravo", "role": "Viewer"}]})
    assert response.status_code == 201
    assert response.json()["grants"] == [{"brand": "bravo", "role": "Viewer"}]


@pytest.mark.parametrize("grants, field, message", [
    ([], "grants", "Give the new user a role in at least one brand."),
    ([{"brand": "alpha", "role": "CSR"}], "grants[0].brand", "unknown brand 'alpha'"),
    ([{"brand": "bravo", "role": "Nope"}], "grants[0].role", "no role 'Nope' in brand bravo"),
])
def test_create_names_the_faulty_grant(client, brand_a, grants, field, message):
    response = client.post("/api/v1/users", {"username": "hank", "grants": grants})
    assert response.status_code == 400
    assert (response.json()["field"], response.json()["errors"][0]["message"]) == (field, message)


def test_a_taken_username_is_a_400_naming_the_field(client, make_role, brand_b, partner):
    make_role("CSR", ["users.view"], brand=brand_b)
    response = client.post("/api/v1/users", {"username": "PARTNER", "grants": [{"brand": "bravo", "role": "CSR"}]})
    assert response.status_code == 400
    assert response.json()["field"] == "username"


def test_only_system_administrators_create_system_administrators(client, make_role, brand_b):
    make_role("CSR", ["users.view"], brand=brand_b)
    response = client.post("/api/v1/users", {
        "username": "ivan", "is_system_admin": True, "grants": [{"brand": "bravo", "role": "CSR"}],
    })
    assert response.status_code == 403


def test_patching_an_email_is_audited_with_the_key_as_actor(make_user, brand_b, client, partner_key):
    bob = make_user("bob", {brand_b: ["users.view"]}, password=None)
    response = client.patch(f"/api/v1/users/{bob.pk}", {"email": "robert@bravo.test"})
    assert response.status_code == 200
    assert response.json()["email"] == "robert@bravo.test"

    event = AuditEvent.objects.for_object(bob).get(action="update")
    assert event.changes == {"email": ["bob@example.test", "robert@bravo.test"]}
    assert event.actor_api_key == partner_key[0]
    assert event.actor_user.username == "partner"
    assert event.actor_label.startswith(f"api-key:{partner_key[0].key_id}")
    assert event.request_id and event.address == "127.0.0.1"


def test_patch_changes_only_what_is_sent(make_user, brand_b, client):
    bob = make_user("bob", {brand_b: ["users.view"]}, password=None, first_name="Bob", last_name="Builder")
    response = client.patch(f"/api/v1/users/{bob.pk}", {"is_active": False})
    assert response.status_code == 200
    bob.refresh_from_db()
    assert (bob.first_name, bob.last_name, bob.is_active) == ("Bob", "Builder", False)


@pytest.mark.parametrize("body, field", [
    ({"email": "not-an-address"}, "email"),
    ({"first_name": None}, "first_name"),
    ({"is_active": "perhaps"}, "is_active"),
    ({"first_name": "x" * 151}, "first_name"),
])
def test_patch_refuses_bad_values_naming_the_field(make_user, brand_b, client, body, field):
    bob = make_user("bob", {brand_b: ["users.view"]}, password=None)
    response = client.patch(f"/api/v1/users/{bob.pk}", body)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["message"].startswith(f"{field}: ")


def test_a_partner_cannot_change_a_system_administrator(admin_user, make_user, brand_b, client, system):
    from telora.core import clock
    from telora.core.models import Role
    from telora.core.services.users import grant_role

    grant_role(admin_user, brand_b, Role.objects.create(name="Viewer", permissions=["users.view"]),
               actor=system, at=clock.now())
    response = client.patch(f"/api/v1/users/{admin_user.pk}", {"is_active": False})
    assert response.status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_the_change_shows_in_the_audit_trail_through_the_api(make_user, brand_b, client, admin_user, session_client):
    bob = make_user("bob", {brand_b: ["users.view"]}, password=None)
    client.patch(f"/api/v1/users/{bob.pk}", {"last_name": "Builder"})
    response = session_client(admin_user).get(
        "/api/v1/audit-events", object_type="core.user", object_id=str(bob.pk), action="update")
    assert response["X-Total-Count"] == "1"
    event = response.json()[0]
    assert event["changes"] == {"last_name": ["", "Builder"]}
    assert event["actor"].startswith("api-key:") and event["api_key_id"] is not None
