from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "telora.catalog"
    label = "catalog"
    verbose_name = _("Catalogue")

    def ready(self):
        from telora.core.rights import register_area

        register_area("catalog", _("Catalogue"), url_name="catalog:home", icon="books", order=200,
                      special=("apply",), module=True)

        from telora.catalog import search
        from telora.catalog.views.sections import SECTION_LIST
        from telora.ui.links import register_object_page

        for section in SECTION_LIST:
            register_object_page(section.object_type, f"catalog:{section.name}_detail")
        search.register()
