"""Template helpers of the shell: icons, Bootstrap form fields, the permission matrix, history."""

from __future__ import annotations

from django import forms, template
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from telora.core import rights
from telora.core.models import AuditEvent
from telora.ui import links
from telora.ui.views.generic import area_allowed

register = template.Library()

HISTORY_LIMIT = 50


@register.simple_tag
def icon(name: str, extra: str = ""):
    """A Tabler icon from the vendored webfont: {% icon "users" %}."""
    return format_html('<i class="ti ti-{} {}" aria-hidden="true"></i>', name, extra)


# ---- forms -------------------------------------------------------------------------------


def _widget_kind(widget) -> str:
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
        return "choices"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.HiddenInput):
        return "hidden"
    return "input"


_CSS = {"checkbox": "form-check-input", "select": "form-select", "input": "form-control", "choices": "", "hidden": ""}


@register.inclusion_tag("ui/forms/field.html")
def form_field(field, *, inline: bool = False):
    """One field with its label, help and errors, styled for Tabler."""
    kind = _widget_kind(field.field.widget)
    css = " ".join(filter(None, [field.field.widget.attrs.get("class", ""), _CSS[kind],
                                 "is-invalid" if field.errors else ""]))
    widget_html = field.as_widget(attrs={"class": css} if css else None) if kind != "choices" else ""
    return {
        "field": field,
        "kind": kind,
        "widget_html": widget_html,
        "inline": inline,
        "matrix": getattr(field.field, "is_permission_matrix", False),
    }


@register.inclusion_tag("ui/forms/form.html")
def form_fields(form):
    """Every field of a form in order, with its errors that belong to no field."""
    return {"form": form}


@register.inclusion_tag("ui/forms/permission_matrix.html")
def permission_matrix(field):
    """Areas as rows, actions as columns; special actions (e.g. users.grant) listed in the last column."""
    chosen = set(field.value() or [])
    offered = {value for value, _label in field.field.choices}
    rows = []
    for area in rights.areas():
        if area.admin_only:
            continue
        cells = {}
        for action in area.actions:
            perm = f"{area.code}.{action}"
            if perm in offered:
                cells[action] = {"value": perm, "checked": perm in chosen, "action": action}
        rows.append({
            "area": area,
            "view": cells.get("view"),
            "change": cells.get("change"),
            "special": [cells[a] for a in area.special if a in cells],
        })
    return {"field": field, "rows": rows, "name": field.html_name, "id": field.auto_id}


# ---- history and links -------------------------------------------------------------------


def latest_visible(user, events) -> tuple[list[AuditEvent], bool]:
    """The latest HISTORY_LIMIT of `events` the viewer may read (platform-wide ones and those of
    brands they hold), newest first, and whether there are more: (events, more)."""
    if not rights.is_system_admin(user):
        held = list(rights.permission_map(user).keys())
        events = events.filter(Q(brand__isnull=True) | Q(brand_id__in=held))
    rows = list(events.order_by("-at", "-id")[:HISTORY_LIMIT + 1])
    return rows[:HISTORY_LIMIT], len(rows) > HISTORY_LIMIT


def history_panel(context, obj, events, *, fold_long=False) -> dict:
    """The context of ui/includes/history.html for `obj`, showing those of `events` the viewer may
    read; with `fold_long`, long values (a rate plan's rates, a product's rules) are folded away."""
    request = context["request"]
    shown, more = latest_visible(request.user, events)
    audit_url = None
    if area_allowed(request.user, context.get("active_brand"), "audit"):
        audit_url = reverse("ui:audit_list") + "?" + urlencode(
            {"object_type": obj._meta.label_lower, "object_id": obj.pk})
    return {"events": shown, "more": more, "audit_url": audit_url, "fold_long": fold_long}


@register.inclusion_tag("ui/includes/history.html", takes_context=True)
def history(context, obj):
    """The History panel: who changed what on this object, old -> new, newest first."""
    return history_panel(context, obj, AuditEvent.objects.for_object(obj))


@register.simple_tag
def object_url(event):
    return links.object_url(event.object_type, event.object_id)


@register.filter
def changed_items(changes: dict):
    """(field, old, new) of an event's changes, leaving out the ones that read the same to people
    (a new user's empty last name is "" where there was no user: both show as a dash)."""
    items = []
    for field, pair in (changes or {}).items():
        old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        if show_value(old) != show_value(new):
            items.append((field, old, new))
    return items


@register.filter
def show_value(value):
    """An audited value for people: empty as a dash, lists joined."""
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return value


LONG_VALUE = 80


@register.filter
def is_long(value) -> bool:
    """Whether an audited value is too long to show inline (a rate plan's rates, a product's rules)."""
    return len(str(value)) > LONG_VALUE


# ---- colours and status ------------------------------------------------------------------


def _rgb(colour: str) -> tuple[int, int, int] | None:
    colour = (colour or "").lstrip("#")
    if len(colour) != 6:
        return None
    try:
        return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)
    except ValueError:
        return None


@register.filter
def rgb_triplet(colour: str) -> str:
    """'#0a7d5a' -> '10,125,90' for Bootstrap's --tblr-primary-rgb."""
    rgb = _rgb(colour)
    return ",".join(str(c) for c in rgb) if rgb else ""


@register.filter
def is_dark(colour: str) -> bool:
    """Whether white text reads better than black on this colour (WCAG relative luminance)."""
    rgb = _rgb(colour)
    if rgb is None:
        return True

    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.179


JOB_STATUS_COLOURS = {"queued": "secondary", "running": "blue", "succeeded": "green", "failed": "red"}


@register.filter
def job_status_colour(status: str) -> str:
    return JOB_STATUS_COLOURS.get(status, "secondary")
