"""Menu areas, actions and the question "may this principal do X in brand B?".

An area is a part of the product (users, audit, customers, billing...). Every area has the
actions `view` and `change`; some add special actions (for example `users.grant`). A role is a
list of permissions written `area.action`. A user holds roles per brand; an API key narrows its
owner's rights to the brands and permissions it was given. System administrators (superusers)
hold every permission in every brand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BASE_ACTIONS = ("view", "change")


@dataclass(frozen=True)
class Area:
    code: str
    label: str
    url_name: str | None = None  # the screen the menu opens; None for areas without a screen yet
    icon: str = "circle"
    order: int = 100
    special: tuple[str, ...] = ()
    admin_only: bool = False  # only system administrators (e.g. managing brands themselves)
    module: bool = False  # a module an installation or a brand may turn off (core.modules)
    descriptions: dict[str, str] = field(default_factory=dict)

    @property
    def actions(self) -> tuple[str, ...]:
        return BASE_ACTIONS + self.special

    def permissions(self) -> list[str]:
        return [f"{self.code}.{action}" for action in self.actions]


_AREAS: dict[str, Area] = {}


def register_area(code: str, label: str, **options) -> Area:
    """Called by each app in its AppConfig.ready(); registering the same code twice is a bug."""
    area = Area(code=code, label=label, **options)
    existing = _AREAS.get(code)
    if existing is not None and existing != area:
        raise ValueError(f"area {code!r} is already registered differently")
    _AREAS[code] = area
    return area


def areas() -> list[Area]:
    return sorted(_AREAS.values(), key=lambda a: (a.order, a.code))


def get_area(code: str) -> Area:
    try:
        return _AREAS[code]
    except KeyError:
        raise KeyError(f"unknown area {code!r}") from None


def all_permissions() -> list[str]:
    return [perm for area in areas() for perm in area.permissions()]


def validate_permission(perm: str) -> str:
    """Return `perm` if it names a registered area and action, else raise ValueError naming it."""
    area_code, _, action = perm.partition(".")
    if area_code not in _AREAS:
        raise ValueError(f"unknown area {area_code!r} in permission {perm!r}")
    if action not in _AREAS[area_code].actions:
        raise ValueError(f"unknown action {action!r} for area {area_code!r}")
    return perm


class ALL:
    """Marker: every brand (a system administrator's reach)."""


def permission_map(principal) -> dict[int, frozenset[str]]:
    """brand id -> permissions held there. Cached on the principal object for one request."""
    cached = getattr(principal, "_telora_permission_map", None)
    if cached is not None:
        return cached
    result = principal.compute_permission_map()
    try:
        principal._telora_permission_map = result
    except AttributeError:
        pass
    return result


def forget(principal) -> None:
    """Drop the cached map after grants changed."""
    if hasattr(principal, "_telora_permission_map"):
        del principal._telora_permission_map


def is_system_admin(principal) -> bool:
    return bool(getattr(principal, "is_active", False) and principal.is_system_admin)


def has_perm(principal, brand, perm: str) -> bool:
    """Whether the principal holds `perm` in the brand, and the brand uses the perm's module."""
    from telora.core.modules import area_enabled

    if principal is None or not getattr(principal, "is_authenticated", False):
        return False
    brand_id = getattr(brand, "pk", brand)
    if not area_enabled(perm.partition(".")[0], brand_id):
        return False
    if is_system_admin(principal):
        return True
    return perm in permission_map(principal).get(brand_id, frozenset())


def brands_with(principal, perm: str):
    """Brand ids where the principal holds `perm` (and its module is on), or ALL for system
    administrators while no brand has the module off."""
    from telora.core.modules import area_enabled, brands_without, is_installed

    if principal is None or not getattr(principal, "is_authenticated", False):
        return []
    area = perm.partition(".")[0]
    if not is_installed(area):
        return []
    if is_system_admin(principal):
        off = brands_without(area)
        if not off:
            return ALL
        from telora.core.models import Brand

        return [pk for pk in Brand.objects.values_list("pk", flat=True) if pk not in off]
    return [brand_id for brand_id, perms in permission_map(principal).items()
            if perm in perms and area_enabled(area, brand_id)]


def has_area(principal, brand, area_code: str) -> bool:
    return has_perm(principal, brand, f"{area_code}.view")
