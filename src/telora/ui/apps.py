from django.apps import AppConfig


class UiConfig(AppConfig):
    name = "telora.ui"
    label = "ui"
