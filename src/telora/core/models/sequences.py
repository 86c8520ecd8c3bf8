from django.db import models

from telora.core.models.brands import BrandOwned


class Sequence(BrandOwned):
    """A gap-free counter per brand (customer, order, invoice numbers).

    The row is locked until the allocating transaction ends, so a rolled-back allocation
    gives its number back and two allocators never share one.
    """

    code = models.SlugField(max_length=40)
    format = models.CharField(max_length=60, default="{number}")
    next_value = models.BigIntegerField(default=1)
    per_year = models.BooleanField(default=False)  # restart at 1 each calendar year of the brand
    year = models.IntegerField(null=True, blank=True)

    rights_area = "brands"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["brand", "code"], name="sequence_per_brand")]

    def __str__(self) -> str:
        return f"{self.brand_id}:{self.code}"
