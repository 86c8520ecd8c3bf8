"""Users, roles, brand grants and API keys.

Partner administrators (users with `users.change` in a brand) manage users only in their
brands and may hand out only roles whose permissions they hold themselves there: nobody
grants more than they have.
"""

from __future__ import annotations

import datetime as dt
import functools

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from telora.core import rights
from telora.core.models import ApiKey, Brand, BrandGrant, Role, User
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.core.services.audit import record_event, snapshot

USER_FIELDS = ["username", "first_name", "last_name", "email", "is_active", "is_superuser", "language", "default_brand"]
ROLE_FIELDS = ["name", "brand", "description", "permissions"]


def _is_job(actor: Actor) -> bool:
    return bool(actor.job) and actor.principal is None


def _require(actor: Actor, brand, perm: str) -> None:
    if _is_job(actor):
        return
    if not rights.has_perm(actor.principal, brand, perm):
        raise PermissionDeniedError(f"You lack {perm} in brand {getattr(brand, 'code', brand)}.")


def _require_admin(actor: Actor, what: str) -> None:
    if not _is_job(actor) and not rights.is_system_admin(actor.principal):
        raise PermissionDeniedError(f"Only system administrators may {what}.")


def _grant_brand_ids(user: User) -> set[int]:
    return set(user.grants.values_list("brand_id", flat=True))


def _require_manages(actor: Actor, user: User) -> None:
    """The actor may change `user` only if it holds users.change in every brand the user is in."""
    if _is_job(actor) or rights.is_system_admin(actor.principal):
        return
    if user.is_superuser:
        raise PermissionDeniedError("Only system administrators manage system administrators.")
    brands = _grant_brand_ids(user)
    if not brands:
        raise PermissionDeniedError("This user holds no brand you manage.")
    for brand_id in brands:
        _require(actor, brand_id, "users.change")


def _clean_permissions(perms) -> list[str]:
    cleaned = []
    for perm in perms:
        try:
            cleaned.append(rights.validate_permission(perm))
        except ValueError as exc:
            raise ServiceError(str(exc), field="permissions") from exc
    return sorted(set(cleaned))


# ---- users -------------------------------------------------------------------------------


@transaction.atomic
def create_user(
    *, actor: Actor, at: dt.datetime, username: str, password: str | None, email: str = "",
    first_name: str = "", last_name: str = "", is_superuser: bool = False,
    grants: list[tuple[Brand, Role]] = (), language: str = "",
) -> User:
    if is_superuser:
        _require_admin(actor, "create system administrators")
    for brand, _role in grants:
        _require(actor, brand, "users.change")
    if not is_superuser and not grants and not _is_job(actor) and not rights.is_system_admin(actor.principal):
        raise ServiceError("Give the new user a role in at least one brand.", field="grants")
    username = (username or "").strip()
    if not username:
        raise ServiceError("username: required", field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise ServiceError(f"username: {username!r} is taken", field="username")
    user = User(
        username=username, email=email, first_name=first_name, last_name=last_name,
        is_superuser=is_superuser, is_staff=is_superuser, language=language, date_joined=at,
    )
    if password:
        _check_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    record_event(actor=actor, at=at, action="create", obj=user, new=snapshot(user, USER_FIELDS))
    for brand, role in grants:
        grant_role(user, brand, role, actor=actor, at=at)
    return user


def _check_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ServiceError("password: " + " ".join(exc.messages), field="password") from exc


@transaction.atomic
def update_user(user: User, *, actor: Actor, at: dt.datetime, **values) -> User:
    _require_manages(actor, user)
    if "is_superuser" in values and bool(values["is_superuser"]) != user.is_superuser:
        _require_admin(actor, "change who is a system administrator")
    user = User.objects.select_for_update().get(pk=user.pk)
    old = snapshot(user, USER_FIELDS)
    for name, value in values.items():
        if name not in USER_FIELDS or name == "username":
            raise ServiceError(f"{name}: cannot be changed here", field=name)
        setattr(user, name, value)
    user.is_staff = user.is_superuser
    user.save()
    record_event(actor=actor, at=at, action="update", obj=user, old=old, new=snapshot(user, USER_FIELDS))
    return user


@transaction.atomic
def set_password(user: User, password: str, *, actor: Actor, at: dt.datetime) -> None:
    if actor.user is None or actor.user.pk != user.pk:
        _require_manages(actor, user)
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    record_event(actor=actor, at=at, action="set_password", obj=user, message="password changed")


# ---- roles -------------------------------------------------------------------------------


@transaction.atomic
def create_role(*, actor: Actor, at: dt.datetime, name: str, permissions, brand: Brand | None = None,
                description: str = "") -> Role:
    if brand is None:
        _require_admin(actor, "create platform roles")
    else:
        _require(actor, brand, "users.change")
        _require_within_own(actor, brand, permissions)
    role = Role(name=name.strip(), brand=brand, description=description, permissions=_clean_permissions(permissions))
    if not role.name:
        raise ServiceError("name: required", field="name")
    try:
        with transaction.atomic():
            role.save()
    except IntegrityError:
        raise ServiceError(f"name: a role named {role.name!r} exists already", field="name") from None
    record_event(actor=actor, at=at, action="create", obj=role, brand=brand, new=snapshot(role, ROLE_FIELDS))
    return role


@transaction.atomic
def update_role(role: Role, *, actor: Actor, at: dt.datetime, name: str | None = None,
                permissions=None, description: str | None = None) -> Role:
    if role.brand_id is None:
        _require_admin(actor, "change platform roles")
    else:
        _require(actor, role.brand_id, "users.change")
        if permissions is not None:
            _require_within_own(actor, role.brand_id, permissions)
    role = Role.objects.select_for_update().get(pk=role.pk)
    old = snapshot(role, ROLE_FIELDS)
    if name is not None:
        role.name = name.strip()
    if permissions is not None:
        role.permissions = _clean_permissions(permissions)
    if description is not None:
        role.description = description
    try:
        with transaction.atomic():
            role.save()
    except IntegrityError:
        raise ServiceError(f"name: a role named {role.name!r} exists already", field="name") from None
    record_event(actor=actor, at=at, action="update", obj=role, brand=role.brand, old=old, new=snapshot(role, ROLE_FIELDS))
    return role


def _require_within_own(actor: Actor, brand, permissions) -> None:
    if _is_job(actor) or rights.is_system_admin(actor.principal):
        return
    own = rights.permission_map(actor.principal).get(getattr(brand, "pk", brand), frozenset())
    beyond = sorted(set(permissions) - own)
    if beyond:
        raise PermissionDeniedError(f"You cannot hand out rights you do not hold: {', '.join(beyond)}.")


# ---- grants ------------------------------------------------------------------------------


@transaction.atomic
def grant_role(user: User, brand: Brand, role: Role, *, actor: Actor, at: dt.datetime) -> BrandGrant:
    _require(actor, brand, "users.grant")
    if role.brand_id not in (None, brand.pk):
        raise ServiceError(f"role: {role.name!r} belongs to another brand", field="role")
    _require_within_own(actor, brand, role.permissions)
    grant, created = BrandGrant.objects.get_or_create(user=user, brand=brand, role=role)
    if created:
        record_event(actor=actor, at=at, action="grant", obj=user, brand=brand,
                     new={"brand": brand.code, "role": role.name})
    rights.forget(user)
    return grant


@transaction.atomic
def revoke_grant(grant: BrandGrant, *, actor: Actor, at: dt.datetime) -> None:
    _require(actor, grant.brand, "users.grant")
    _require_within_own(actor, grant.brand, grant.role.permissions)
    user = grant.user
    record_event(actor=actor, at=at, action="revoke", obj=user, brand=grant.brand,
                 old={"brand": grant.brand.code, "role": grant.role.name})
    grant.delete()
    rights.forget(user)


# ---- API keys ----------------------------------------------------------------------------


@transaction.atomic
def create_api_key(
    *, actor: Actor, at: dt.datetime, user: User, name: str, brands, permissions,
    expires_at: dt.datetime | None = None,
) -> tuple[ApiKey, str]:
    """Returns the key and its token; the token is never stored and cannot be shown again."""
    if actor.user is None or actor.user.pk != user.pk:
        _require_manages(actor, user)
    brands = list(brands)
    if not brands:
        raise ServiceError("brands: give the key at least one brand", field="brands")
    permissions = _clean_permissions(permissions)
    if not permissions:
        raise ServiceError("permissions: give the key at least one permission", field="permissions")
    _require_key_reaches(actor, brands, permissions)
    if not user.is_superuser:
        for brand in brands:
            if not rights.permission_map(user).get(brand.pk):
                raise ServiceError(f"brands: {user.username} holds no role in {brand.code}", field="brands")
    token, key_id, secret_hash = ApiKey.new_token()
    key = ApiKey.objects.create(
        user=user, name=name.strip() or "API key", key_id=key_id, secret_hash=secret_hash,
        permissions=permissions, created_at=at, expires_at=expires_at,
    )
    key.brands.set(brands)
    record_event(actor=actor, at=at, action="create", obj=key, new={
        "user": user.username, "brands": sorted(b.code for b in brands), "permissions": permissions,
    })
    return key, token


def _require_key_reaches(actor: Actor, brands, permissions) -> None:
    """An API key that manages keys may touch only keys no wider than itself.

    A key acts for its owner, so without this a key holding nothing but `users.change` could mint
    its owner a key with every right the owner has. It needs `users.change` in each brand, and the
    brands and permissions must lie within its own.
    """
    key = actor.api_key
    if key is None:
        return
    own_brands = set(key.brands.values_list("pk", flat=True))
    outside = sorted(b.code for b in brands if b.pk not in own_brands)
    if outside:
        raise PermissionDeniedError(f"This API key does not reach brand {', '.join(outside)}.", field="brands")
    wider = sorted(set(permissions) - set(key.permissions))
    if wider:
        raise PermissionDeniedError(f"An API key cannot give more than it holds: {', '.join(wider)}.",
                                    field="permissions")
    for brand in brands:
        _require(actor, brand, "users.change")


def _require_manages_key(actor: Actor, key: ApiKey) -> None:
    """Own keys, or keys of users one manages; a key acting on another key stays within itself."""
    if actor.api_key is not None and actor.api_key.pk == key.pk:
        return  # a key may always revoke or rotate itself
    if actor.user is None or actor.user.pk != key.user_id:
        _require_manages(actor, key.user)
    _require_key_reaches(actor, list(key.brands.all()), key.permissions)


MAX_ROTATION_OVERLAP = dt.timedelta(days=30)


@transaction.atomic
def rotate_api_key(key: ApiKey, *, actor: Actor, at: dt.datetime,
                   overlap: dt.timedelta = dt.timedelta(0)) -> tuple[ApiKey, str]:
    """A new key with the same owner, name, brands, permissions and expiry; the old one stops.

    With an `overlap` the old key keeps working until `at + overlap` (it expires then), so programs
    can switch to the new token without a moment of refusals; without one it is revoked at once.
    """
    key = ApiKey.objects.select_for_update().select_related("user").get(pk=key.pk)
    _require_manages_key(actor, key)
    if not key.is_active or (key.expires_at is not None and key.expires_at <= at):
        raise ServiceError("Only an active key can be rotated; create a new one instead.", field="key",
                           code="conflict")
    if overlap < dt.timedelta(0) or overlap > MAX_ROTATION_OVERLAP:
        raise ServiceError(f"overlap: between 0 and {MAX_ROTATION_OVERLAP.days} days", field="overlap")
    token, key_id, secret_hash = ApiKey.new_token()
    new = ApiKey.objects.create(user=key.user, name=key.name, key_id=key_id, secret_hash=secret_hash,
                                permissions=list(key.permissions), created_at=at, expires_at=key.expires_at)
    brands = list(key.brands.all())
    new.brands.set(brands)
    old = {"revoked_at": key.revoked_at, "expires_at": key.expires_at}
    if overlap:
        ends = at + overlap
        key.expires_at = ends if key.expires_at is None else min(key.expires_at, ends)
    else:
        key.revoked_at = at
    key.save(update_fields=["revoked_at", "expires_at"])
    record_event(actor=actor, at=at, action="create", obj=new, new={
        "user": key.user.username, "brands": sorted(b.code for b in brands), "permissions": new.permissions,
        "rotated_from": key.key_id,
    })
    record_event(actor=actor, at=at, action="rotate", obj=key, old=old, new={
        "revoked_at": key.revoked_at, "expires_at": key.expires_at, "replaced_by": new.key_id,
    })
    return new, token


@transaction.atomic
def revoke_api_key(key: ApiKey, *, actor: Actor, at: dt.datetime) -> ApiKey:
    _require_manages_key(actor, key)
    if key.revoked_at is None:
        key.revoked_at = at
        key.save(update_fields=["revoked_at"])
        record_event(actor=actor, at=at, action="revoke", obj=key, new={"revoked_at": at})
    return key


def authenticate_api_key(token: str, *, at: dt.datetime) -> ApiKey | None:
    """The active key for a token, with its owner and its rights already loaded (one statement, see
    `_key_query`), its last-used time refreshed at most once a minute.

    Every API request comes through here, so it reads the key, its owner, the key's brands and the
    owner's grants in one round trip instead of three ORM queries (about 1 ms of CPU per request
    less). The rights are read fresh on every request: a revoked key, a deactivated owner or a
    withdrawn grant counts at once, in every process.
    """
    parts = ApiKey.split_token(token.strip())
    if parts is None:
        return None
    key_id, secret = parts
    key = _load_key(key_id)
    if key is None or not key.secret_matches(secret) or not key.is_active:
        return None
    if key.expires_at is not None and key.expires_at <= at:
        return None
    if key.last_used_at is None or (at - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=at)
        key.last_used_at = at
    return key


@functools.cache
def _key_query() -> tuple[str, list[str], list[str]]:
    """The SQL reading a key by its id with its owner, the key's brand ids and the owner's grants in
    active brands as [brand id, permissions] pairs; columns named from the models' metadata."""
    key_fields = [f.attname for f in ApiKey._meta.concrete_fields]
    user_fields = [f.attname for f in User._meta.concrete_fields]
    columns = [f'k."{f.column}"' for f in ApiKey._meta.concrete_fields]
    columns += [f'u."{f.column}"' for f in User._meta.concrete_fields]
    brands = ApiKey.brands.through._meta
    sql = (
        f"SELECT {', '.join(columns)}, "
        f"ARRAY(SELECT kb.brand_id FROM {brands.db_table} kb WHERE kb.apikey_id = k.id), "
        f"ARRAY(SELECT json_build_array(g.brand_id, r.permissions) FROM {BrandGrant._meta.db_table} g "
        f"JOIN {Role._meta.db_table} r ON r.id = g.role_id JOIN {Brand._meta.db_table} b ON b.id = g.brand_id "
        f"WHERE g.user_id = u.id AND b.is_active) "
        f"FROM {ApiKey._meta.db_table} k JOIN {User._meta.db_table} u ON u.id = k.user_id WHERE k.key_id = %s"
    )
    return sql, key_fields, user_fields


def _load_key(key_id: str) -> ApiKey | None:
    sql, key_fields, user_fields = _key_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, [key_id])
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(key_fields)
    key = ApiKey.from_db(connection.alias, key_fields, row[:n])
    user = User.from_db(connection.alias, user_fields, row[n:n + len(user_fields)])
    key.user = user
    brand_ids, grants = row[-2], row[-1]
    owner_map = User.merge_grants(grants)
    if not user.is_superuser:
        user._telora_permission_map = owner_map
    key._telora_permission_map = key.narrow(owner_map, brand_ids)
    return key
