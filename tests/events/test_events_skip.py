"""A consumer added to an installation with a history can start after it (skip_to_end): it is handed
only the events written later (the demo's letters consumer starts so)."""

import pytest

from telora.core import clock
from telora.events.models import ConsumerPosition
from telora.events.registry import consumer, unregister
from telora.events.services import emit
from telora.events.services.dispatch import dispatch, skip_to_end

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def collected():
    seen = []
    consumer("latecomer")(lambda event: seen.append(event.id))
    yield seen
    unregister("latecomer")


def test_a_consumer_placed_after_the_history_gets_only_what_comes_later(brand_a, system, collected):
    history = [emit("customer.created", brand=brand_a, subject=brand_a, payload={"n": n}, at=clock.now(),
                    actor=system) for n in range(3)]
    assert skip_to_end("latecomer") == 3
    assert ConsumerPosition.objects.get(name="latecomer").event_id == history[-1].pk
    assert skip_to_end("latecomer") == 0  # nothing new: it stays where it is
    later = emit("customer.changed", brand=brand_a, subject=brand_a, payload={}, at=clock.now(), actor=system)
    assert dispatch("latecomer") == 1 and collected == [later.pk]
    with pytest.raises(KeyError):
        skip_to_end("nobody")
