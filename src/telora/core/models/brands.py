"""Brands (tenants) and the base every brand-owned model builds on."""

import functools
import re
import zoneinfo

from babel import Locale, UnknownLocaleError
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from telora.core import rights
from telora.core.money import is_currency

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def validate_currency(value: str) -> None:
    if not is_currency(value):
        raise ValidationError(_("%(value)s is not an ISO 4217 currency code"), params={"value": value})


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known timezone"), params={"value": value})


@functools.cache
def _territories() -> frozenset[str]:
    return frozenset(Locale("en").territories)  # read once: imports check every row's country


def validate_country(value: str) -> None:
    if value not in _territories() or not re.fullmatch(r"[A-Z]{2}", value):
        raise ValidationError(_("%(value)s is not an ISO 3166 country code"), params={"value": value})


@functools.lru_cache(maxsize=512)
def _locale(value: str) -> Locale:
    return Locale.parse(value)  # a few codes, checked once each (bulk imports check every row)


def validate_language(value: str) -> None:
    try:
        _locale(value)
    except (UnknownLocaleError, ValueError):
        raise ValidationError(_("%(value)s is not a language code"), params={"value": value}) from None


def validate_colour(value: str) -> None:
    if not COLOUR.match(value):
        raise ValidationError(_("colours are written #RRGGBB"))


class BrandScopedQuerySet(models.QuerySet):
    """`for_user` is the one way views and the API read brand-owned rows."""

    def for_user(self, principal, action: str = "view"):
        perm = f"{self.model.rights_area}.{action}"
        brand_ids = rights.brands_with(principal, perm)
        if brand_ids is rights.ALL:
            return self.all()
        return self.filter(**{f"{self.model.brand_path}__in": brand_ids})

    def in_brand(self, brand):
        return self.filter(**{self.model.brand_path: brand})


class BrandOwned(models.Model):
    """Abstract base: a row that belongs to one brand and is read through `for_user`."""

    brand = models.ForeignKey("core.Brand", on_delete=models.PROTECT, related_name="+")

    rights_area: str = ""
    brand_path = "brand_id"
    objects = BrandScopedQuerySet.as_manager()

    class Meta:
        abstract = True


def brand_key_indexed_elsewhere():
    """The brand key of a BrandOwned model with a composite index that leads with brand_id (a
    unique number, say): that index serves brand lookups, a second one on brand_id alone would
    only cost every insert (a migration import writes a million rows)."""
    return models.ForeignKey("core.Brand", on_delete=models.PROTECT, related_name="+", db_index=False)


def index_when_set(field: str, name: str) -> models.Index:
    """An index of a nullable key over the rows that have one: most rows have none, and a key
    index serves only lookups by a value (deleting the referenced row, its list of users)."""
    return models.Index(fields=[field], name=name, condition=models.Q(**{f"{field}__isnull": False}))


class BrandQuerySet(models.QuerySet):
    def for_user(self, principal, action: str = "view"):
        if rights.is_system_admin(principal):
            return self.all()
        if action != "view" or not getattr(principal, "is_authenticated", False):
            return self.none()  # only system administrators change brands
        return self.filter(pk__in=list(rights.permission_map(principal)))


class Brand(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    timezone = models.CharField(_("timezone"), max_length=64, validators=[validate_timezone])
    country = models.CharField(_("country"), max_length=2, validators=[validate_country])
    language = models.CharField(_("language"), max_length=8, default="en", validators=[validate_language])
    logo = models.FileField(_("logo"), upload_to="brands/", blank=True)
    primary_colour = models.CharField(_("primary colour"), max_length=7, default="#206bc4", validators=[validate_colour])
    secondary_colour = models.CharField(
        _("secondary colour"), max_length=7, default="#1e293b", validators=[validate_colour]
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Installed modules this brand does not use (core.modules): their rights are held by nobody here.
    modules_off = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    created_at = models.DateTimeField(_("created"))

    rights_area = "brands"
    objects = BrandQuerySet.as_manager()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
