from django.apps import AppConfig


class UiConfig(AppConfig):
    name = "telora.ui"
    label = "ui"
    verbose_name = "Telora GUI"

    def ready(self):
        from telora.ui import links, search

        search.register_core_providers()
        links.register_core_links()
