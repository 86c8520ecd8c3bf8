from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "telora.core"
    label = "core"
    verbose_name = "Telora core"

    def ready(self):
        # Core's own menu areas; domain apps register theirs in their own ready().
        from telora.core import areas, jobs  # noqa: F401
