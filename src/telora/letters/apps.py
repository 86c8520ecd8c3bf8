import importlib.util

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LettersConfig(AppConfig):
    name = "telora.letters"
    label = "letters"
    verbose_name = _("Letters")

    def ready(self):
        from telora.core.rights import register_area

        register_area("letters", _("Letters"), url_name="letters:outbox", icon="mail", order=700,
                      special=("send",), module=True)

        from telora.customers.panels import register_panel
        from telora.letters import demo, jobs  # noqa: F401  (jobs: the sending and receipt tasks)
        from telora.letters.views import customer_panel

        register_panel("letters", customer_panel, order=400)
        demo.register()
        _register_consumer()


def _register_consumer() -> None:
    """Consume domain events once the events app is there (it is built alongside; see docs/letters.md)."""
    if importlib.util.find_spec("telora.events") is None or importlib.util.find_spec("telora.events.registry") is None:
        return
    from telora.events.registry import consumer
    from telora.letters.constants import EVENT_TYPES
    from telora.letters.consumers import handle_events

    consumer("letters", types=EVENT_TYPES, batch=True)(handle_events)
