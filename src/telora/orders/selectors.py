"""Reads of orders shared by screens, the API and other apps."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from telora.orders.models import Order


def orders_for_user(principal, action: str = "view"):
    return Order.objects.for_user(principal, action).select_related("customer", "subscription", "brand")


def filter_orders(rows, *, state=None, order_type=None, customer=None, since=None, until=None, q=None, desk=None):
    """Narrow a queryset of orders by the list's filters (each optional); `desk`: a desk code, the orders
    with a task open at that desk of their brand."""
    if desk:
        from django.apps import apps

        if not apps.is_installed("telora.workflows"):
            return rows.none()
        from telora.workflows.models import HumanTask

        waiting = HumanTask.objects.open().filter(desk__code=desk, brand_id=OuterRef("brand_id"),
                                                  instance_id=OuterRef("flow_instance_id"))
        rows = rows.filter(Exists(waiting))
    if state:
        rows = rows.filter(state=state)
    if order_type:
        rows = rows.filter(order_type=order_type)
    if customer:
        rows = rows.filter(customer__number=customer) if not str(customer).isdigit() else rows.filter(
            customer_id=int(customer))
    if since:
        rows = rows.filter(created_at__date__gte=since)
    if until:
        rows = rows.filter(created_at__date__lte=until)
    if q:
        rows = rows.filter(number__iexact=q.strip())
    return rows


def step_log(order: Order) -> list[dict]:
    """The order's own entries and its flow's steps, in time order: {at, kind, name, actor, message, data}."""
    rows = [{"at": e.at, "kind": e.kind, "name": e.kind, "actor": e.actor_label, "message": e.message,
             "data": e.data, "error": ""} for e in order.entries.all()]
    if order.flow_instance_id is not None:
        from django.apps import apps

        if apps.is_installed("telora.workflows"):
            FlowStep = apps.get_model("workflows", "FlowStep")
            for step in FlowStep.objects.filter(instance_id=order.flow_instance_id).order_by("started_at", "id"):
                rows.append({"at": step.started_at, "kind": step.kind, "name": step.name or step.element,
                             "actor": step.actor, "message": "", "error": step.error,
                             "data": {"inputs": step.inputs, "outputs": step.outputs}})
    return sorted(rows, key=lambda r: r["at"])


def flow_diagram(order: Order) -> dict | None:
    """What the order page draws: its flow version's document (with a layout when it has none) and the path
    the order took on it (completed elements, the one it waits at). None without the engine or a flow."""
    from django.apps import apps

    if order.flow_instance_id is None or not apps.is_installed("telora.workflows"):
        return None
    from telora.workflows.layout import with_diagram
    from telora.workflows.models import FlowInstance
    from telora.workflows.paths import instance_path

    instance = (FlowInstance.objects.filter(pk=order.flow_instance_id, brand=order.brand)
                .select_related("version__definition").first())
    if instance is None:
        return None
    return {"version": str(instance.version), "xml": with_diagram(instance.version.bpmn_xml),
            "path": instance_path(instance)}
