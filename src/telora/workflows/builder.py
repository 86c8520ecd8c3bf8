"""What the flow builder screen needs besides the diagram: the choices of its side form (the registry's
service tasks with their inputs, the brand's desks, the form field types), the problems of a document
as a list the page shows beside the diagram, and where a save goes.

A flow opened from the installation's standard version is saved as the brand's own flow with the same
key (it wins for that brand once published); only a system administrator changes a standard flow itself.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from telora.core import rights
from telora.workflows import registry
from telora.workflows.engine.spiff import FIELD_TYPES, FlowError, check_flow, parse_flow
from telora.workflows.models import Desk, FlowDefinition, FlowVersion


def palette(brand) -> dict:
    """The side form's choices as JSON-ready data."""
    desks = Desk.objects.filter(brand=brand) if brand is not None else Desk.objects.none()
    return {
        "service_tasks": [{"key": spec.key, "description": spec.description, "inputs": sorted(spec.inputs),
                           "outputs": sorted(spec.outputs)} for spec in registry.service_tasks()],
        "desks": [{"code": desk.code, "name": desk.name} for desk in desks.order_by("code")],
        "field_types": list(FIELD_TYPES),
    }


def flow_problems(xml: str, *, brand) -> list[dict]:
    """Everything the save would refuse, one entry per problem with its line and element id (empty: saves).
    The same checks as services.flows.validate_flow, kept apart so every problem is listed separately."""
    try:
        parsed = parse_flow(xml)
    except FlowError as exc:
        return [{"line": exc.line, "element": exc.element, "message": exc.reason}]
    desks = Desk.objects.all() if brand is None else Desk.objects.filter(brand=brand)
    codes = set(desks.values_list("code", flat=True))
    problems = check_flow(parsed, service_tasks={s.key: s for s in registry.service_tasks()},
                          desk_exists=codes.__contains__)
    return [{"line": p.line, "element": p.element, "message": p.reason} for p in problems]


def save_target(user, version: FlowVersion, active_brand):
    """The brand (None: the standard flow) a save of an edit of `version` goes to, or PermissionDenied.

    The flow's own definition when the user may change it (its brand's workflows.change; a standard
    flow: system administrators); a standard flow otherwise becomes the active brand's own flow."""
    definition = version.definition
    if FlowDefinition.objects.for_user(user, "change").filter(pk=definition.pk).exists():
        return definition.brand
    if definition.brand is None and active_brand is not None and rights.has_perm(user, active_brand,
                                                                                 "workflows.change"):
        return active_brand
    raise PermissionDenied


def related_versions(user, version: FlowVersion):
    """The versions of the same flow key the user may see (the standard flow's and the brands' own)."""
    definitions = FlowDefinition.objects.for_user(user).filter(key=version.definition.key)
    return (FlowVersion.objects.filter(definition__in=definitions).select_related("definition__brand")
            .order_by("definition__brand_id", "-number"))
