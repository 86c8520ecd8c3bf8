"""The send job's one-statement UPDATE of a batch: every field type written as the ORM would (JSON,
text with quotes, nulls, times), only the rows given."""

from __future__ import annotations

import datetime as dt

import pytest
from provisioning_helpers import configure

from telora.core import clock
from telora.provisioning import services
from telora.provisioning.bulkwrite import update_rows
from telora.provisioning.models import ProvisioningRequest

pytestmark = pytest.mark.django_db


def test_update_rows_writes_each_field_of_the_rows_given_only(brand_a, system):
    configure(brand_a, system)
    made = [services.create_request(brand_a, operation="create", payload={"msisdn": f"3161000000{n}"},
                                    idempotency_key=f"u-{n}", actor=system, at=clock.now()) for n in range(3)]
    first, second, untouched = (ProvisioningRequest.objects.get(pk=r.pk) for r in made)
    later = clock.now() + dt.timedelta(minutes=5)
    first.state, first.result, first.error, first.next_try_at = "completed", {"msisdn": "x", "n": [1, 2]}, "it's \"odd\"", None
    second.state, second.tries, second.next_try_at, second.error_code = "queued", 3, later, "http_503"
    assert update_rows(ProvisioningRequest, [first, second], ["state", "tries", "result", "error", "error_code",
                                                              "next_try_at"]) == 2
    first.refresh_from_db()
    second.refresh_from_db()
    untouched.refresh_from_db()
    assert (first.state, first.result, first.error, first.next_try_at) == ("completed", {"msisdn": "x", "n": [1, 2]},
                                                                           "it's \"odd\"", None)
    assert (second.state, second.tries, second.next_try_at, second.error_code) == ("queued", 3, later, "http_503")
    assert (untouched.state, untouched.tries) == ("queued", 0)
    assert update_rows(ProvisioningRequest, [], ["state"]) == 0
