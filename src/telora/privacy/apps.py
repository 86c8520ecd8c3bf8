from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "telora.privacy"
    label = "privacy"
    verbose_name = _("Data protection")

    def ready(self):
        from telora.core.rights import register_area

        register_area("privacy", _("Data protection"), url_name="privacy:retention", icon="shield-lock", order=900,
                      special=("export", "erase"), module=True)

        from telora.customers.panels import register_panel
        from telora.privacy import jobs  # noqa: F401  (the job kinds and the retention task)
        from telora.privacy.views import customer_panel

        register_panel("privacy", customer_panel, order=500)
