"""API keys managed without the GUI: the /api/v1/api-keys endpoints and `telora apikey`."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from telora.core import clock
from telora.core.models import ApiKey, AuditEvent

ADMIN = ["users.view", "users.change", "customers.view"]
CUSTOMERS = "/tmf-api/customerManagement/v4/customer"  # a read the keys made here may do


@pytest.fixture
def ann(make_user, brand_a, brand_b):
    """A partner administrator of both brands (and customer reader)."""
    return make_user("ann", {brand_a: ADMIN, brand_b: ADMIN})


def test_a_key_creates_lists_rotates_and_revokes_keys(ann, brand_a, key_client, token_client):
    api = key_client(ann, [brand_a], ADMIN)
    created = api.post("/api/v1/api-keys", {"name": "CRM sync", "brands": ["alpha"], "permissions": ["customers.view"]})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["user"] == "ann" and body["brands"] == ["alpha"] and body["permissions"] == ["customers.view"]
    assert body["active"] is True and body["token"].startswith("tel_")
    crm = token_client(body["token"])
    assert crm.get(CUSTOMERS).status_code == 200

    listed = api.get("/api/v1/api-keys", user="ann").json()
    assert {k["key_id"] for k in listed} >= {body["key_id"]}
    assert all("token" not in k for k in listed)  # a token is shown once, at creation

    rotated = api.post(f"/api/v1/api-keys/{body['key_id']}/rotate", {})
    assert rotated.status_code == 201, rotated.content
    new = rotated.json()
    assert new["key_id"] != body["key_id"] and new["permissions"] == ["customers.view"]
    assert crm.get(CUSTOMERS).status_code == 401  # no overlap: the old token stops at once
    assert token_client(new["token"]).get(CUSTOMERS).status_code == 200
    old = api.get(f"/api/v1/api-keys/{body['key_id']}").json()
    assert old["revoked_at"] is not None and old["active"] is False
    assert AuditEvent.objects.filter(action="rotate", object_id=str(ApiKey.objects.get(key_id=body["key_id"]).pk)).exists()

    revoked = api.post(f"/api/v1/api-keys/{new['key_id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert token_client(new["token"]).get(CUSTOMERS).status_code == 401


def test_a_rotation_with_overlap_keeps_the_old_token_working_until_it_ends(ann, brand_a, make_key, token_client, time_machine):
    key, token = make_key(ann, [brand_a], ADMIN)
    api = token_client(token)
    new = api.post(f"/api/v1/api-keys/{key.key_id}/rotate", {"overlap_minutes": 30}).json()
    assert api.get("/api/v1/users").status_code == 200  # the old token still works during the overlap
    assert token_client(new["token"]).get("/api/v1/users").status_code == 200
    time_machine.move_to(clock.now() + dt.timedelta(minutes=31))
    assert api.get("/api/v1/users").status_code == 401
    assert token_client(new["token"]).get("/api/v1/users").status_code == 200


def test_a_key_cannot_mint_a_wider_key(ann, brand_a, brand_b, key_client):
    """A key acts for its owner; without the bound a users.change key could give its owner's every right."""
    narrow = key_client(ann, [brand_a], ["users.view", "users.change"])
    wider = narrow.post("/api/v1/api-keys", {"name": "x", "brands": ["alpha"], "permissions": ["customers.view"]})
    assert wider.status_code == 403 and "customers.view" in wider.json()["message"]
    other_brand = narrow.post("/api/v1/api-keys", {"name": "x", "brands": ["bravo"], "permissions": ["users.view"]})
    assert other_brand.status_code == 400 and other_brand.json()["field"] == "brands[0]"  # out of reach: unknown
    reader = key_client(ann, [brand_a], ["users.view"])
    assert reader.post("/api/v1/api-keys", {"name": "x", "brands": ["alpha"],
                                            "permissions": ["users.view"]}).status_code == 403
    assert ApiKey.objects.filter(user=ann).count() == 2  # only the two keys the test made


def test_a_narrow_key_cannot_rotate_or_revoke_a_wider_key_of_its_owner(ann, brand_a, make_key, key_client):
    wide, _token = make_key(ann, [brand_a], ADMIN, name="wide")
    narrow = key_client(ann, [brand_a], ["users.view", "users.change"])
    assert narrow.post(f"/api/v1/api-keys/{wide.key_id}/revoke").status_code in (403, 404)
    assert narrow.post(f"/api/v1/api-keys/{wide.key_id}/rotate", {}).status_code in (403, 404)
    wide.refresh_from_db()
    assert wide.revoked_at is None


def test_brand_b_keys_are_invisible_to_brand_a(brand_a, brand_b, make_user, make_key, key_client):
    bob = make_user("bob", {brand_b: ADMIN})
    bobs, _ = make_key(bob, [brand_b], ADMIN, name="bob's")
    alice = make_user("alice", {brand_a: ADMIN})
    api = key_client(alice, [brand_a], ADMIN)
    assert bobs.key_id not in {k["key_id"] for k in api.get("/api/v1/api-keys").json()}
    assert api.get(f"/api/v1/api-keys/{bobs.key_id}").status_code == 404
    assert api.post(f"/api/v1/api-keys/{bobs.key_id}/revoke").status_code == 404
    assert api.post("/api/v1/api-keys", {"name": "x", "user": "bob", "brands": ["alpha"],
                                         "permissions": ["users.view"]}).status_code == 400
    bobs.refresh_from_db()
    assert bobs.revoked_at is None


def test_bad_input_names_the_field(ann, brand_a, key_client):
    api = key_client(ann, [brand_a], ADMIN)
    unknown = api.post("/api/v1/api-keys", {"name": "x", "brands": ["nowhere"], "permissions": ["users.view"]})
    assert unknown.status_code == 400 and unknown.json()["field"] == "brands[0]"
    past = api.post("/api/v1/api-keys", {"name": "x", "brands": ["alpha"], "permissions": ["users.view"],
                                         "expires_at": "2000-01-01T00:00:00Z"})
    assert past.status_code == 400 and past.json()["field"] == "expires_at"
    bad_perm = api.post("/api/v1/api-keys", {"name": "x", "brands": ["alpha"], "permissions": ["nope.view"]})
    assert bad_perm.status_code == 400 and bad_perm.json()["field"] == "permissions"
    too_long = api.post(f"/api/v1/api-keys/{ApiKey.objects.first().key_id}/rotate", {"overlap_minutes": 10**9})
    assert too_long.status_code == 400 and too_long.json()["field"] == "overlap_minutes"


def _cli(*args) -> str:
    out = io.StringIO()
    call_command("apikey", *args, stdout=out)
    return out.getvalue()


def test_the_cli_creates_lists_rotates_and_revokes(ann, brand_a, token_client):
    token = _cli("create", "--user", "ann", "--name", "billing export", "--brand", "alpha",
                 "--perm", "customers.view", "--quiet").strip()
    assert token.startswith("tel_") and token_client(token).get(CUSTOMERS).status_code == 200
    key_id = ApiKey.split_token(token)[0]
    listing = _cli("list", "--user", "ann")
    assert key_id in listing and "active" in listing and "customers.view" in listing

    new_token = _cli("rotate", key_id, "--quiet").strip()
    assert token_client(token).get(CUSTOMERS).status_code == 401
    assert token_client(new_token).get(CUSTOMERS).status_code == 200
    new_id = ApiKey.split_token(new_token)[0]
    assert "revoked" in _cli("list", "--user", "ann").split(key_id)[1].splitlines()[0]

    assert f"Revoked key {new_id}" in _cli("revoke", new_id)
    assert token_client(new_token).get(CUSTOMERS).status_code == 401
    assert _cli("list", "--active") == "No API keys.\n"
    assert AuditEvent.objects.filter(actor_label="job:apikey", action="revoke").exists()


def test_the_cli_refuses_bad_arguments_with_one_line(ann, brand_a):
    with pytest.raises(CommandError, match="--user: no user 'nobody'"):
        _cli("create", "--user", "nobody", "--name", "x", "--brand", "alpha", "--perm", "users.view")
    with pytest.raises(CommandError, match="--brand: no brand 'zz'"):
        _cli("create", "--user", "ann", "--name", "x", "--brand", "zz", "--perm", "users.view")
    with pytest.raises(CommandError, match="--expires"):
        _cli("create", "--user", "ann", "--name", "x", "--brand", "alpha", "--perm", "users.view", "--expires", "soon")
    with pytest.raises(CommandError, match="no API key 'abc'"):
        _cli("revoke", "abc")
    assert not ApiKey.objects.exists()
