"""Reads of core rows shared by the GUI and the API, each starting from the principal's rights."""

from django.db.models import Q

from telora.core import rights
from telora.core.models import BrandGrant, Role


def roles_for_user(principal, action: str = "view"):
    """Roles the principal may see (`view`) or change (`change`).

    Platform roles (no brand) are visible to anyone holding `users.view` somewhere, since they
    are handed out in every brand, but only system administrators change them.
    """
    brand_ids = rights.brands_with(principal, f"users.{action}")
    if brand_ids is rights.ALL:
        return Role.objects.all()
    if not brand_ids:
        return Role.objects.none()
    reach = Q(brand_id__in=brand_ids)
    if action == "view":
        reach |= Q(brand__isnull=True)
    return Role.objects.filter(reach)


def grants_for_user(principal, action: str = "view"):
    """Brand grants in brands where the principal holds `users.<action>`."""
    brand_ids = rights.brands_with(principal, f"users.{action}")
    if brand_ids is rights.ALL:
        return BrandGrant.objects.all()
    return BrandGrant.objects.filter(brand_id__in=brand_ids)
