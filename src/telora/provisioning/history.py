"""A line's provisioning history on its subscription page (a panel the customers app shows; it imports
nothing of provisioning): every request of the line, newest first, with its state, operation, target,
tries, times and the operator's reference, each linking to the request's page and its exchanges."""

from __future__ import annotations

from telora.core import rights
from telora.provisioning.models import ProvisioningRequest

ROWS = 50  # the latest; the provisioning log filtered on the line has them all


def line_panel(request, subscription):
    """(template, context) for readers holding provisioning.view in the line's brand, else None."""
    if not rights.has_perm(request.user, subscription.brand, "provisioning.view"):
        return None
    rows = list(ProvisioningRequest.objects.filter(brand=subscription.brand, subscription=subscription)
                .select_related("target")[:ROWS + 1])
    total = len(rows) if len(rows) <= ROWS else (ProvisioningRequest.objects
                                                 .filter(brand=subscription.brand, subscription=subscription).count())
    rows = rows[:ROWS]
    attach_desk_tasks(rows)
    return "provisioning/_line_history.html", {"requests": rows, "total": total, "more": total > ROWS,
                                               "subscription": subscription}


def attach_desk_tasks(requests) -> None:
    """`desk_task` on each manual request waiting for a person: its open task on the target's desk."""
    from telora.provisioning import manual

    tasks = manual.open_tasks_by_request([r.pk for r in requests if r.state == "sent" and r.target.adapter == "manual"])
    for request in requests:
        request.desk_task = tasks.get(request.pk)
