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
        from telora.customers.panels import register_tab
        from telora.orders import jobs  # noqa: F401  (the periodic due-order task)
        from telora.orders.actions import take_action
        from telora.orders.views import customer_order_count, customer_tab, may_see_orders

        register_tab("orders", _("Orders"), icon="list-check", template="orders/_tab.html", allowed=may_see_orders,
                     context=customer_tab, count=customer_order_count, order=15)
        register_taker(take_action)

        from telora.orders import demo

        demo.register()

        from django.apps import apps

        if apps.is_installed("telora.workflows"):
            from telora.orders import tasks
            from telora.orders.flows import SUBJECT, describe, label, on_instance_change
            from telora.workflows.registry import register_subject

            tasks.register()
            register_subject(SUBJECT, on_change=on_instance_change, describe=describe, label=label)
