from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "telora.catalog"
    label = "catalog"
    verbose_name = _("Catalogue")

    def ready(self):
        from telora.core.rights import register_area

        register_area("catalog", _("Catalogue"), icon="books", order=200, special=("apply",))
