from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "telora.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from telora.core.rights import register_area

        register_area("customers", _("Customers"), icon="users-group", order=100)

        from telora.customers import demo, search

        search.register()
        demo.register()
