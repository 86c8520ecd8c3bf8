from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "telora.orders"
    label = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from telora.core.rights import register_area

        register_area("orders", _("Orders"), url_name="orders:order_list", icon="list-check", order=350, module=True)

        from telora.customers.actions import register_taker
        from telora.customers.panels import register_panel
        from telora.orders import jobs  # noqa: F401  (the periodic due-order task)
        from telora.orders.actions import take_action
        from telora.orders.views import customer_panel

        register_panel("orders", customer_panel, order=200)
        register_taker(take_action)

        from django.apps import apps

        if apps.is_installed("telora.workflows"):
            from telora.orders import tasks
            from telora.orders.flows import SUBJECT, describe, on_instance_change
            from telora.workflows.registry import register_subject

            tasks.register()
            register_subject(SUBJECT, on_change=on_instance_change, describe=describe)
