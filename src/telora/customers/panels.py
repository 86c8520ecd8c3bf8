"""Panels higher apps add to the customer page (consents and data-protection actions, later others).

The customers app owns this registry and imports none of them: an app registers in its
`AppConfig.ready()` with `register_panel("privacy", build, order=500)`, where `build(request, customer)`
returns `(template name, context)` or None when the reader may not see it. The arrow points down.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    name: str
    build: Callable
    order: int = 100


_PANELS: dict[str, Panel] = {}


def register_panel(name: str, build: Callable, *, order: int = 100) -> None:
    _PANELS[name] = Panel(name=name, build=build, order=order)


def panels_for(request, customer) -> list[dict]:
    """The panels this reader sees on this customer's page, in order: [{"name", "template", "context"}]."""
    shown = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.name)):
        built = panel.build(request, customer)
        if built is not None:
            template, context = built
            shown.append({"name": panel.name, "template": template, "context": context})
    return shown
