"""Panels and tabs higher apps add to the customer page (consents and data-protection actions, the
customer's orders, later others).

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


@dataclass(frozen=True)
class Tab:
    """A tab of the customer page owned by a higher app. `allowed(user, brand)` says whether the reader sees
    it (asked for every page: keep it a rights check), `context(request, customer)` what the tab shows (asked
    only when it is open), `count(customer)` the number on its label (None: no number)."""

    name: str
    label: object
    icon: str
    template: str
    allowed: Callable
    context: Callable
    count: Callable | None = None
    order: int = 100


_TABS: dict[str, Tab] = {}


def register_tab(name: str, label, *, icon: str, template: str, allowed: Callable, context: Callable,
                 count: Callable | None = None, order: int = 100) -> None:
    _TABS[name] = Tab(name=name, label=label, icon=icon, template=template, allowed=allowed, context=context,
                      count=count, order=order)


def tabs_for(user, customer) -> list[Tab]:
    """The registered tabs this reader sees on this customer's page, in order."""
    return [tab for tab in sorted(_TABS.values(), key=lambda t: (t.order, t.name)) if tab.allowed(user, customer.brand)]


# Cards higher apps add to a subscription's own page (the line's provisioning history, …): the same
# contract as the customer page's panels, `build(request, subscription)` -> (template, context) or None.
_SUBSCRIPTION_PANELS: dict[str, Panel] = {}


def register_subscription_panel(name: str, build: Callable, *, order: int = 100) -> None:
    _SUBSCRIPTION_PANELS[name] = Panel(name=name, build=build, order=order)


def subscription_panels_for(request, subscription) -> list[dict]:
    """The panels this reader sees on this subscription's page, in order: [{"name", "template", "context"}]."""
    shown = []
    for panel in sorted(_SUBSCRIPTION_PANELS.values(), key=lambda p: (p.order, p.name)):
        built = panel.build(request, subscription)
        if built is not None:
            template, context = built
            shown.append({"name": panel.name, "template": template, "context": context})
    return shown
