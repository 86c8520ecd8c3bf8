from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "telora.events"
    label = "events"
    verbose_name = _("Events and webhooks")

    def ready(self):
        from telora.core.rights import register_area

        # The outbox is platform (always on); the webhooks it feeds are a module a brand may turn off.
        register_area("webhooks", _("Webhooks"), url_name="events:deliveries", icon="webhook", order=880,
                      module=True)

        from telora.events import jobs  # noqa: F401  (the dispatcher and delivery tasks)
        from telora.events.services import deliveries  # noqa: F401  (registers the "webhooks" consumer)
