from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "telora.inventory"
    label = "inventory"
    verbose_name = _("Inventory")

    def ready(self):
        from telora.core.rights import register_area
        from telora.inventory import sealing  # noqa: F401  (its key, named in backups)

        register_area("inventory", _("Inventory"), url_name="inventory:home", icon="device-sim", order=300,
                      special=("import", "secrets"), module=True)

        from telora.inventory import search, usage
        from telora.ui.links import register_object_page

        register_object_page("inventory.simcard", "inventory:sim_detail")
        register_object_page("inventory.phonenumber", "inventory:number_detail")
        register_object_page("inventory.numbergroup", "inventory:group_detail")
        register_object_page("inventory.importbatch", "inventory:import_detail")
        search.register()
        usage.register()
