from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "telora.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from telora.core.rights import register_area

        register_area("customers", _("Customers"), url_name="customers:customer_list", icon="users-group", order=100,
                      special=("backdate", "price_agreement"), module=True)

        from telora.ui.links import register_object_page

        register_object_page("customers.customer", "customers:customer_detail")
        register_object_page("customers.subscription", "customers:subscription_detail")
        register_object_page("customers.billingaccount", "customers:account_detail")

        from telora.customers import demo, search, usage
        from telora.customers.panels import register_panel
        from telora.customers.views.agreements import agreements_panel

        register_panel("agreements", agreements_panel, order=300)

        search.register()
        demo.register()
        usage.register()
