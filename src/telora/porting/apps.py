from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortingConfig(AppConfig):
    name = "telora.porting"
    label = "porting"
    verbose_name = _("Number porting")

    def ready(self):
        from django.apps import apps

        from telora.core.rights import register_area

        register_area("porting", _("Porting"), url_name="porting:list", icon="arrows-exchange", order=372,
                      module=True)
        from telora.customers.panels import register_tab
        from telora.orders.hooks import register_preparer
        from telora.porting import (
            jobs,  # noqa: F401  (messages retried, flows told)
            services,
        )
        from telora.porting.views import customer_request_count, customer_tab, may_see

        register_tab("porting", _("Porting"), icon="arrows-exchange", template="porting/_tab.html", allowed=may_see,
                     context=customer_tab, count=customer_request_count, order=17)
        register_preparer("port_in", services.prepare_port_in)
        register_preparer("port_out", services.prepare_port_out)

        from telora.porting import demo

        demo.register()
        if apps.is_installed("telora.workflows"):
            from telora.porting import tasks

            tasks.register()
