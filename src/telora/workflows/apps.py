from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "telora.workflows"
    label = "workflows"
    verbose_name = _("Workflows")

    def ready(self):
        from telora.core.rights import register_area

        register_area("workflows", _("Desks and flows"), url_name="workflows:desk_list", icon="sitemap", order=400,
                      special=("work",), module=True)
        from telora.workflows import jobs  # noqa: F401  (the periodic timer and retry task)
