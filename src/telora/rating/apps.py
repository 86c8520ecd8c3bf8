from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RatingConfig(AppConfig):
    name = "telora.rating"
    label = "rating"
    verbose_name = _("Rating")

    def ready(self):
        from telora.core.rights import register_area

        # No screen yet (the GUI comes later): the area carries the rights the pipeline checks.
        register_area("rating", _("Rating"), order=300, special=("rerate", "delete_failed"))

        from telora.rating import jobs  # noqa: F401  (the Procrastinate task)
