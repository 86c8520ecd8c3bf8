from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProvisioningConfig(AppConfig):
    name = "telora.provisioning"
    label = "provisioning"
    verbose_name = _("Provisioning")

    def ready(self):
        from django.apps import apps

        from telora.core.rights import register_area

        register_area("provisioning", _("Provisioning"), url_name="provisioning:log", icon="antenna", order=370,
                      special=("work",), module=True)
        from telora.customers.panels import register_tab
        from telora.provisioning import jobs  # noqa: F401  (sending and the periodic retries)
        from telora.provisioning.views import customer_request_count, customer_tab, may_see

        register_tab("provisioning", _("Provisioning"), icon="antenna", template="provisioning/_tab.html",
                     allowed=may_see, context=customer_tab, count=customer_request_count, order=16)

        from telora.provisioning import demo, soap

        soap.register()  # the hlr_soap adapters (zeep)
        demo.register()
        from telora.customers.panels import register_subscription_panel
        from telora.provisioning.history import line_panel

        register_subscription_panel("provisioning", line_panel, order=50)  # the line's requests on its page
        from telora.provisioning import barring_demo

        barring_demo.register()
        from telora.provisioning import barring  # the balance consumer; the suspend/resume tasks below

        if apps.is_installed("telora.workflows"):
            from telora.provisioning import manual, tasks

            tasks.register()
            manual.register()  # the manual adapter's work as a desk task
            barring.register_tasks()
