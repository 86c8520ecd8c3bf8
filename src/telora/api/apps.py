from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "telora.api"
    label = "api"
