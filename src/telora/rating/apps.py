from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RatingConfig(AppConfig):
    name = "telora.rating"
    label = "rating"
    verbose_name = _("Rating")

    def ready(self):
        from telora.core.rights import register_area
        from telora.rating.services import sealing  # noqa: F401  (its key, named in backups)

        register_area("rating", _("Rating"), url_name="rating:file_list", icon="calculator", order=300,
                      special=("rerate", "delete_failed"), module=True)

        from telora.ui.links import register_object_page

        register_object_page("rating.usagefile", "rating:file_detail")
        register_object_page("rating.failedrecord", "rating:failed_detail")

        from telora.rating import demo, search

        search.register()
        demo.register()

        from telora.rating import jobs  # noqa: F401  (the Procrastinate task)
