from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "telora.inventory"
    label = "inventory"
    verbose_name = _("Inventory")

    def ready(self):
        from telora.core.rights import register_area

        register_area("inventory", _("Inventory"), icon="device-sim", order=300, special=("import", "secrets"))
