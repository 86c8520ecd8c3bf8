"""Modules: which parts of Telora an installation runs, and which of those each brand uses.

An operator who runs only rating and billing (or adds orders later) turns the others off by
configuration, without code changes. A module is a menu area an app registers as switchable
(`register_area(..., module=True)`: catalogue, inventory, customers, rating, billing, …); the
platform's own areas (users, audit, jobs, brands) are always on.

- **Installation**: `TELORA_MODULES` (comma-separated codes; unset: every module). A module left
  out is not mounted: its screens and API routes do not exist (404), its periodic jobs do nothing.
- **Brand**: `Brand.modules_off` lists the installed modules a brand does not use. Rights follow:
  nobody holds a permission of a module that is off in the brand (`rights.has_perm` asks
  `area_enabled`), so its menu entry, screens, API answers and account tabs go away for that
  brand as they would for a user without the right, while the data stays (billing still bills
  accounts loaded by a migration when the customer screens are off).

The per-brand settings are read once and kept for `CACHE_SECONDS` in each process (a change
made here is seen at once; other processes see it within that time).
"""

from __future__ import annotations

import time

from django.conf import settings

CACHE_SECONDS = 10.0
_cache: dict = {"at": 0.0, "off": {}}


def switchable() -> list[str]:
    """Codes of the modules (areas registered with module=True), in the menu's order."""
    from telora.core.rights import _AREAS

    return sorted(code for code, area in _AREAS.items() if area.module)


def installed() -> frozenset[str]:
    """The modules this installation runs: TELORA_MODULES, else every module."""
    configured = getattr(settings, "TELORA_MODULES", None)
    codes = switchable()
    if configured is None:
        return frozenset(codes)
    unknown = sorted(set(configured) - set(codes))
    if unknown:
        raise ValueError(f"TELORA_MODULES: unknown module {', '.join(unknown)} (known: {', '.join(codes)})")
    return frozenset(configured)


def is_installed(code: str) -> bool:
    """A module this installation runs, or something that is no module (always on)."""
    return code not in switchable() or code in installed()


def app_installed(dotted: str) -> bool:
    """Whether the app of a dotted path ("telora.rating.api.usage.router") is mounted: the
    platform's apps always, a module's app when the installation runs the module."""
    parts = dotted.split(".")
    return len(parts) < 2 or parts[0] != "telora" or is_installed(parts[1])


def _brands_off() -> dict[int, frozenset[str]]:
    now = time.monotonic()
    if now - _cache["at"] > CACHE_SECONDS:
        from telora.core.models import Brand

        _cache["off"] = {pk: frozenset(off) for pk, off in Brand.objects.exclude(modules_off=[])
                         .values_list("pk", "modules_off")}
        _cache["at"] = now
    return _cache["off"]


def forget() -> None:
    """Read the brands' modules again on next use (after a brand's modules changed)."""
    _cache["at"] = 0.0


def area_enabled(area_code: str, brand_id) -> bool:
    """May anyone use `area_code` in the brand? Always for the platform's areas."""
    if area_code not in switchable():
        return True
    if area_code not in installed():
        return False
    return area_code not in _brands_off().get(brand_id, ())


def running(module: str, brands):
    """The rows of `brands` (a queryset of brand-owned rows, or of brands: `brand_id` or `pk`) whose
    brand uses `module`: periodic jobs act only there, and not at all when it is not installed."""
    if not is_installed(module):
        return brands.none()
    off = brands_without(module)
    if not off:
        return brands
    field = "pk" if brands.model._meta.label_lower == "core.brand" else "brand_id"
    return brands.exclude(**{f"{field}__in": off})


def brands_without(area_code: str) -> set[int]:
    """Brand ids where a module is off (all of them when the installation does not run it: None)."""
    return {pk for pk, off in _brands_off().items() if area_code in off}


class ModulesMiddleware:
    """404 for the screens of a module the installation does not run (URL namespace = module code).

    Per brand nothing is needed here: nobody holds the rights of a module that is off in the brand,
    so its screens answer as they do to a user without the right."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from django.http import Http404

        match = getattr(request, "resolver_match", None)
        namespace = match.namespaces[0] if match and match.namespaces else ""
        if namespace and not is_installed(namespace):
            raise Http404(f"The {namespace} module is not installed here.")
        return None
