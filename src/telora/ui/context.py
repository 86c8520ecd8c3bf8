"""Template context for the shell: active brand, brands to switch to, the rights-filtered menu."""

import telora
from telora.core import modules, rights
from telora.core.middleware import available_brands, current_brand


def menu_for(user, brand) -> list[rights.Area]:
    """The areas with a screen the user may open in `brand` (all of them for system administrators)."""
    if not getattr(user, "is_authenticated", False):
        return []
    is_admin = rights.is_system_admin(user)
    items = []
    for area in rights.areas():
        if area.url_name is None or not modules.area_enabled(area.code, getattr(brand, "pk", None)):
            continue  # a module the installation or the brand does not run
        if is_admin or (not area.admin_only and brand is not None and rights.has_area(user, brand, area.code)):
            items.append(area)
    return items


def shell(request):
    base = {"telora_version": telora.__version__}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return base
    brand = current_brand(request)
    return {
        **base,
        "active_brand": brand,
        "switchable_brands": list(available_brands(user)),
        "menu": menu_for(user, brand),
        "is_system_admin": rights.is_system_admin(user),
    }
