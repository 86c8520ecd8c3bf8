"""Events fixtures: a webhook receiver on a real socket, and API clients holding keys."""

import pytest
from events_helpers import ApiClient, Receiver

from telora.core import clock
from telora.core.services.users import create_api_key


@pytest.fixture
def receiver(settings):
    settings.TELORA_WEBHOOK_ALLOW_PRIVATE = True  # the receiver listens on 127.0.0.1
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def api_for(make_user, system):
    """api_for({brand: [perms]}) -> (ApiClient, ApiKey) of a fresh user holding those rights."""
    counter = {"n": 0}

    def make(grants):
        counter["n"] += 1
        user = make_user(f"hook-user-{counter['n']}", grants)
        perms = sorted({p for ps in grants.values() for p in ps})
        key, token = create_api_key(actor=system, at=clock.now(), user=user, name="hooks", brands=list(grants),
                                    permissions=perms)
        return ApiClient(token), key

    return make
