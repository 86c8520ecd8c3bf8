"""Rights resolution and the escalation rules enforced by the user services."""

import pytest

from telora.core import clock, rights
from telora.core.models import ApiKey, AuditEvent, Role, User
from telora.core.services import Actor, ServiceError
from telora.core.services.actors import PermissionDeniedError
from telora.core.services.users import (
    authenticate_api_key,
    create_api_key,
    create_role,
    create_user,
    grant_role,
    revoke_api_key,
    update_user,
)


def act(user):
    return Actor(user=user)


def test_permissions_are_per_brand(make_user, brand_a, brand_b):
    ann = make_user("ann", {brand_a: ["users.view", "audit.view"], brand_b: ["jobs.view"]})
    assert rights.has_perm(ann, brand_a, "audit.view")
    assert not rights.has_perm(ann, brand_b, "audit.view")
    assert rights.brands_with(ann, "jobs.view") == [brand_b.pk]
    assert rights.brands_with(make_user("root", superuser=True), "jobs.view") is rights.ALL


def test_unknown_permissions_are_refused_with_the_reason(system, brand_a):
    with pytest.raises(ServiceError, match="unknown area 'nope'") as err:
        create_role(actor=system, at=clock.now(), name="Bad", permissions=["nope.view"], brand=brand_a)
    assert err.value.field == "permissions"
    with pytest.raises(ServiceError, match="unknown action 'fly'"):
        create_role(actor=system, at=clock.now(), name="Bad", permissions=["users.fly"], brand=brand_a)


def test_partner_admin_manages_only_users_of_own_brand(make_user, brand_a, brand_b):
    partner = make_user("partner", {brand_b: ["users.view", "users.change", "users.grant"]})
    in_a = make_user("alice", {brand_a: ["audit.view"]})
    in_b = make_user("bob", {brand_b: ["users.view"]})
    assert set(User.objects.for_user(partner)) == {partner, in_b}
    update_user(in_b, actor=act(partner), at=clock.now(), email="bob@new.test")
    with pytest.raises(PermissionDeniedError):
        update_user(in_a, actor=act(partner), at=clock.now(), email="x@y.test")


def test_nobody_grants_more_than_they_hold(make_user, brand_a, brand_b):
    partner = make_user("partner", {brand_b: ["users.view", "users.change", "users.grant"]})
    auditor = Role.objects.create(name="Auditor", permissions=["audit.view"])
    newbie = make_user("newbie", {brand_b: ["users.view"]})
    with pytest.raises(PermissionDeniedError, match="audit.view"):
        grant_role(newbie, brand_b, auditor, actor=act(partner), at=clock.now())
    with pytest.raises(PermissionDeniedError):
        create_role(actor=act(partner), at=clock.now(), name="Sneaky", permissions=["audit.view"], brand=brand_b)
    with pytest.raises(PermissionDeniedError, match="brand alpha"):
        grant_role(newbie, brand_a, Role.objects.create(name="Viewer", permissions=["users.view"]),
                   actor=act(partner), at=clock.now())
    with pytest.raises(PermissionDeniedError, match="system administrators"):
        create_user(actor=act(partner), at=clock.now(), username="evil", password="Pass-word-1234!",
                    is_superuser=True)


def test_user_changes_are_audited_with_old_and_new_values(make_user, brand_a, admin_user):
    ann = make_user("ann", {brand_a: ["users.view"]})
    update_user(ann, actor=act(admin_user), at=clock.now(), email="ann@new.test", first_name="Ann")
    event = AuditEvent.objects.for_object(ann).filter(action="update").get()
    assert event.actor_user == admin_user
    assert event.changes["email"] == ["ann@example.test", "ann@new.test"]
    assert event.changes["first_name"] == ["", "Ann"]
    assert "last_name" not in event.changes  # unchanged fields are not listed


def test_weak_passwords_are_refused_naming_the_field(system, brand_a, make_role):
    role = make_role("Viewer", ["users.view"], brand_a)
    with pytest.raises(ServiceError) as err:
        create_user(actor=system, at=clock.now(), username="weak", password="123", grants=[(brand_a, role)])
    assert err.value.field == "password"


def test_production_stores_passwords_with_argon2(system, brand_a, make_role, settings):
    """The suite hashes with MD5 for speed (tests/conftest.py); Telora's own setting is Argon2 first."""
    from django.contrib.auth import authenticate

    import telora.settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    role = make_role("Viewer", ["users.view"], brand_a)
    user = create_user(actor=system, at=clock.now(), username="strong", password="Pass-word-1234!",
                       grants=[(brand_a, role)])
    assert user.password.startswith("argon2$")
    assert authenticate(username="strong", password="Pass-word-1234!") == user


def test_api_keys_are_hashed_narrowed_and_revocable(make_user, brand_a, brand_b):
    ann = make_user("ann", {brand_a: ["users.view", "audit.view"], brand_b: ["users.view"]})
    key, token = create_api_key(actor=act(ann), at=clock.now(), user=ann, name="script",
                                brands=[brand_a], permissions=["users.view"])
    assert token not in key.secret_hash and ApiKey.objects.filter(secret_hash__contains=token).count() == 0
    found = authenticate_api_key(token, at=clock.now())
    assert found == key and found.last_used_at is not None
    assert rights.has_perm(found, brand_a, "users.view")
    assert not rights.has_perm(found, brand_a, "audit.view")  # owner has it, key does not
    assert not rights.has_perm(found, brand_b, "users.view")  # owner has it, key is not scoped there
    assert authenticate_api_key(token[:-2] + "xx", at=clock.now()) is None
    revoke_api_key(key, actor=act(ann), at=clock.now())
    assert authenticate_api_key(token, at=clock.now()) is None


def test_a_key_cannot_reach_a_brand_its_owner_lacks(make_user, brand_a, brand_b):
    ann = make_user("ann", {brand_a: ["users.view"]})
    with pytest.raises(ServiceError, match="holds no role in bravo"):
        create_api_key(actor=act(ann), at=clock.now(), user=ann, name="k", brands=[brand_b],
                       permissions=["users.view"])


def test_user_events_are_visible_in_the_brands_the_user_belongs_to(make_user, brand_a, brand_b, admin_user):
    auditor = make_user("auditor", {brand_b: ["audit.view"]})
    in_a = make_user("alice", {brand_a: ["users.view"]})
    in_b = make_user("bob", {brand_b: ["users.view"]})
    for user in (in_a, in_b):
        update_user(user, actor=act(admin_user), at=clock.now(), email=f"{user.username}@new.test")
    visible = AuditEvent.objects.for_user(auditor).filter(action="update", object_type="core.user")
    assert {e.object_id for e in visible} == {str(in_b.pk)}


def test_creating_a_user_in_a_brand_needs_users_change_there(make_user, brand_a, make_role):
    granter = make_user("granter", {brand_a: ["users.view", "users.grant"]})
    role = make_role("Viewer", ["users.view"], brand_a)
    with pytest.raises(PermissionDeniedError, match="users.change"):
        create_user(actor=act(granter), at=clock.now(), username="new", password="Pass-word-1234!",
                    grants=[(brand_a, role)])
