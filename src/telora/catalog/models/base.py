"""What every catalogue row shares: the owning brand, sharing with other brands, and validity dates.

A catalogue belongs to one brand (the owner). `CatalogShare` lets other brands read it: for
`view`, `for_user` returns the rows of the user's brands plus the rows of every brand sharing
its catalogue with them; any other action (`change`, `apply`) reaches only the owner's rows.

Entities (zones, products, ...) exist over [valid_from, valid_to): an entity removed from the
catalogue is closed, never deleted, because history still points at it. Prices and rates are
versioned rows over the same half-open date range.
"""

from django.db import models
from django.db.models import Q

from telora.core import rights
from telora.core.models import BrandOwned, BrandScopedQuerySet


class CatalogQuerySet(BrandScopedQuerySet):
    def for_user(self, principal, action: str = "view"):
        brand_ids = rights.brands_with(principal, f"catalog.{action}")
        if brand_ids is rights.ALL:
            return self.all()
        if action != "view":
            return self.filter(brand_id__in=brand_ids)
        owners = CatalogShare.objects.filter(shared_with_id__in=brand_ids).values("brand_id")
        return self.filter(Q(brand_id__in=brand_ids) | Q(brand_id__in=owners))


class DatedQuerySet(CatalogQuerySet):
    def at(self, day):
        """Rows in effect on `day` (valid_from <= day < valid_to)."""
        return self.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day), valid_from__lte=day)


def in_effect(row, day) -> bool:
    return row.valid_from <= day and (row.valid_to is None or row.valid_to > day)


class CatalogRow(BrandOwned):
    """A brand-owned catalogue row read through the catalogue's rights (and shares)."""

    rights_area = "catalog"
    objects = CatalogQuerySet.as_manager()

    class Meta:
        abstract = True


class CatalogEntity(CatalogRow):
    """A named catalogue entity with a code unique in its brand and a lifetime."""

    code = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    objects = DatedQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "code"], name="%(app_label)s_%(class)s_code"),
            models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                                   name="%(app_label)s_%(class)s_window"),
        ]

    def __str__(self) -> str:
        return self.code


class DatedRow(CatalogRow):
    """One version of a price or rate, in effect over [valid_from, valid_to)."""

    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    objects = DatedQuerySet.as_manager()

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                                   name="%(app_label)s_%(class)s_window"),
        ]


class ShareQuerySet(BrandScopedQuerySet):
    def for_user(self, principal, action: str = "view"):
        brand_ids = rights.brands_with(principal, f"catalog.{action}")
        if brand_ids is rights.ALL:
            return self.all()
        if action != "view":
            return self.filter(brand_id__in=brand_ids)
        return self.filter(Q(brand_id__in=brand_ids) | Q(shared_with_id__in=brand_ids))


class CatalogShare(BrandOwned):
    """The owner `brand` lets `shared_with` read (and sell) its catalogue."""

    shared_with = models.ForeignKey("core.Brand", on_delete=models.CASCADE, related_name="+")

    rights_area = "catalog"
    objects = ShareQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "shared_with"], name="catalog_share_once"),
            models.CheckConstraint(condition=~Q(brand=models.F("shared_with")), name="catalog_share_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.brand_id} → {self.shared_with_id}"
