"""Users, roles, grants of roles per brand, API keys and login attempts."""

import hashlib
import hmac
import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from telora.core import rights


class UserQuerySet(models.QuerySet):
    def for_user(self, principal, action: str = "view"):
        """Users holding a grant in a brand where the principal has `users.<action>`.

        Partner administrators therefore see and manage users only in their own brands;
        system administrators see every user.
        """
        brand_ids = rights.brands_with(principal, f"users.{action}")
        if brand_ids is rights.ALL:
            return self.all()
        return self.filter(grants__brand_id__in=brand_ids).distinct()


class TeloraUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    language = models.CharField(_("language"), max_length=8, blank=True)
    default_brand = models.ForeignKey(
        "core.Brand", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = TeloraUserManager()
    rights_area = "users"

    @property
    def is_system_admin(self) -> bool:
        return self.is_superuser

    def compute_permission_map(self) -> dict[int, frozenset[str]]:
        grants = BrandGrant.objects.filter(user=self, brand__is_active=True).values_list(
            "brand_id", "role__permissions"
        )
        return self.merge_grants(grants)

    @staticmethod
    def merge_grants(grants) -> dict[int, frozenset[str]]:
        """(brand id, role permissions) pairs of grants in active brands -> brand id -> permissions."""
        result: dict[int, set[str]] = {}
        for brand_id, perms in grants:
            result.setdefault(brand_id, set()).update(perms)
        return {brand_id: frozenset(perms) for brand_id, perms in result.items()}


class Role(models.Model):
    """A named set of permissions. A role without a brand is a platform role usable in every brand."""

    name = models.CharField(_("name"), max_length=80)
    brand = models.ForeignKey(
        "core.Brand", on_delete=models.PROTECT, null=True, blank=True, related_name="roles"
    )
    description = models.TextField(_("description"), blank=True)
    permissions = ArrayField(models.CharField(max_length=64), default=list, blank=True)

    rights_area = "users"

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "brand"], name="role_name_per_brand"),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(brand__isnull=True), name="platform_role_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name if self.brand_id is None else f"{self.name} ({self.brand.code})"


class BrandGrant(models.Model):
    """User U holds role R in brand B."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    brand = models.ForeignKey("core.Brand", on_delete=models.CASCADE, related_name="grants")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="grants")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "brand", "role"], name="grant_once")]

    def __str__(self) -> str:
        return f"{self.user} · {self.role.name} @ {self.brand.code}"


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def for_user(self, principal, action: str = "view"):
        if rights.is_system_admin(principal):
            return self.all()
        if not getattr(principal, "is_authenticated", False):
            return self.none()
        # Your own keys, plus keys of users you manage. A key sees itself and the keys of the users
        # it manages (within its own brands and rights), not its owner's other keys as such.
        managed = User.objects.for_user(principal, action).values("pk")
        if isinstance(principal, ApiKey):
            return self.filter(models.Q(pk=principal.pk) | models.Q(user__in=managed))
        return self.filter(models.Q(user=principal) | models.Q(user__in=managed))


class ApiKey(models.Model):
    """A key for the REST API. Only a SHA-256 of the secret is stored; the token is shown once.

    Effective rights are the owner's rights narrowed to the key's brands and permissions.
    """

    PREFIX = "tel"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=80)
    key_id = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    brands = models.ManyToManyField("core.Brand", related_name="+", blank=True)
    permissions = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()
    rights_area = "users"

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"

    @classmethod
    def new_token(cls) -> tuple[str, str, str]:
        """(token shown to the user once, key id, secret hash)."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        return f"{cls.PREFIX}_{key_id}_{secret}", key_id, _hash_secret(secret)

    @staticmethod
    def split_token(token: str) -> tuple[str, str] | None:
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != ApiKey.PREFIX:
            return None
        return parts[1], parts[2]

    def secret_matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_hash, _hash_secret(secret))

    # A key acts as a principal of its own: the rights module asks it these.
    is_authenticated = True

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.user.is_active

    @property
    def is_system_admin(self) -> bool:
        return False  # a key is always narrowed to its brands, even a superuser's

    def compute_permission_map(self) -> dict[int, frozenset[str]]:
        key_brands = self.brands.values_list("pk", flat=True)
        return self.narrow({} if self.user.is_superuser else rights.permission_map(self.user), key_brands)

    def narrow(self, owner_map: dict[int, frozenset[str]], key_brands) -> dict[int, frozenset[str]]:
        """The owner's map (ignored for a superuser, who holds everything) cut down to the key's
        brands and permissions."""
        allowed = set(self.permissions)
        key_brands = set(key_brands)
        if self.user.is_superuser:
            owner_map = {brand_id: frozenset(rights.all_permissions()) for brand_id in key_brands}
        return {
            brand_id: frozenset(perms & allowed)
            for brand_id, perms in owner_map.items()
            if brand_id in key_brands and perms & allowed
        }


class LoginAttempt(models.Model):
    """One attempt to log in; recent failures throttle further attempts."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    succeeded = models.BooleanField()
    at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.username} from {self.address} at {self.at:%Y-%m-%d %H:%M} ({'ok' if self.succeeded else 'failed'})"
