"""What the inventory tells the catalogue's "used by" panels: the SIM cards of a SIM type."""

from __future__ import annotations

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from telora.catalog.models import CatalogShare
from telora.catalog.selectors.usage import Usage, register_usage
from telora.inventory.selectors import sims_for_user


def sims_of_type(sim_type, principal) -> Usage | None:
    """SIM cards of this type in the owner's stock and the stock of the brands it shares with."""
    brands = [sim_type.brand_id, *CatalogShare.objects.filter(brand_id=sim_type.brand_id).values_list(
        "shared_with_id", flat=True)]
    count = sims_for_user(principal).filter(brand_id__in=brands, sim_type=sim_type.code).count()
    if not count:
        return None
    url = reverse("inventory:sim_list") + "?" + urlencode({"sim_type": sim_type.code})
    return Usage(_("SIM cards"), count=count, url=url)


def register() -> None:
    register_usage("catalog.simtype", sims_of_type)
