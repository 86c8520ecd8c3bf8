"""What usage rating needs: zones, time bands, rate plans with their dated rates, and bundles."""

from django.contrib.postgres.fields import ArrayField
from django.db import models

from telora.catalog.constants import BUNDLE_PERIODS, SERVICES
from telora.catalog.models.base import CatalogEntity, CatalogRow, DatedRow

SERVICE_CHOICES = [(s, s) for s in SERVICES]
AMOUNT = {"max_digits": 18, "decimal_places": 6}


class Zone(CatalogEntity):
    """Destination prefixes (voice, SMS, MMS) and/or countries (data; "*" is every other country)."""

    prefixes = ArrayField(models.CharField(max_length=16), default=list, blank=True)
    countries = ArrayField(models.CharField(max_length=2), default=list, blank=True)


class TimeBandSet(CatalogEntity):
    """An ordered list of bands: the first band whose days and hours match a record wins."""


class TimeBand(CatalogRow):
    band_set = models.ForeignKey(TimeBandSet, on_delete=models.CASCADE, related_name="bands")
    position = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=40)
    days = ArrayField(models.CharField(max_length=3), default=list, blank=True)
    start_minute = models.PositiveSmallIntegerField(default=0)
    end_minute = models.PositiveSmallIntegerField(default=24 * 60)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["band_set", "position"]
        constraints = [models.UniqueConstraint(fields=["band_set", "position"], name="catalog_band_position")]


class RatePlan(CatalogEntity):
    time_band_set = models.ForeignKey(TimeBandSet, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+")


class Rate(DatedRow):
    """The price of one service in one zone (and band, if given) for a period of dates."""

    rate_plan = models.ForeignKey(RatePlan, on_delete=models.CASCADE, related_name="rates")
    service = models.CharField(max_length=16, choices=SERVICE_CHOICES)
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="+")
    band = models.CharField(max_length=40, blank=True)  # blank: every band
    price = models.DecimalField(**AMOUNT)
    unit = models.PositiveBigIntegerField()
    first_increment = models.PositiveBigIntegerField()
    next_increment = models.PositiveBigIntegerField()
    setup = models.DecimalField(**AMOUNT, default=0)
    minimum = models.DecimalField(**AMOUNT, default=0)

    class Meta(DatedRow.Meta):
        ordering = ["rate_plan", "service", "zone", "band", "valid_from"]
        indexes = [models.Index(fields=["rate_plan", "valid_from"], name="catalog_rate_plan_from")]
        constraints = DatedRow.Meta.constraints + [
            models.UniqueConstraint(fields=["rate_plan", "service", "zone", "band", "valid_from"],
                                    name="catalog_rate_version"),
        ]

    def __str__(self) -> str:
        return " ".join(filter(None, [self.rate_plan.code, self.service, self.zone.code, self.band]))


class Bundle(CatalogEntity):
    period = models.CharField(max_length=16, choices=[(p, p) for p in BUNDLE_PERIODS])


class Allowance(CatalogRow):
    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="allowances")
    position = models.PositiveSmallIntegerField()
    service = models.CharField(max_length=16, choices=SERVICE_CHOICES)
    amount = models.PositiveBigIntegerField()  # seconds, messages or bytes
    zones = models.ManyToManyField(Zone, through="AllowanceZone", related_name="+", blank=True)

    class Meta:
        ordering = ["bundle", "position"]


class AllowanceZone(CatalogRow):
    allowance = models.ForeignKey(Allowance, on_delete=models.CASCADE)
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["allowance", "zone"], name="catalog_allowance_zone")]
