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
        from telora.provisioning import jobs  # noqa: F401  (sending and the periodic retries)

        if apps.is_installed("telora.workflows"):
            from telora.provisioning import tasks

            tasks.register()
