"""A schema-driven fuzz run over every OpenAPI document (/api/openapi.json and each TMF API's).

Schemathesis generates requests for each operation: a random share (TELORA_FUZZ_COVERAGE, default
0.2) of its coverage phase's boundary and invalid values (huge numbers, NUL, wrong types, missing
fields), then TELORA_FUZZ_EXAMPLES random ones (default 4). They are sent in-process to the WSGI
app with an API key holding every brand-level right in a seeded brand; the test fails on any 5xx
or an answer that does not match its documented schema. New endpoints are covered as they are
added. The defaults keep the run near a minute on a 2-core machine; CI may raise both
(TELORA_FUZZ_COVERAGE=1 sends every coverage case, about 7,500 requests).
"""

from __future__ import annotations

import os
import random

import pytest
import schemathesis
from api_helpers import seed
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import TestPhase
from schemathesis.specs.openapi.checks import response_schema_conformance

from db_helpers import forget_queued_jobs
from telora.api.main import api
from telora.billing.tmf import bill_api
from telora.catalog.tmf import catalog_api
from telora.customers.tmf import account_api, customer_api, product_api
from telora.provisioning.tmf import service_api
from telora.rating.tmf import balance_api, usage_api

APIS = {"telora": api, "tmf629": customer_api, "tmf666": account_api, "tmf637": product_api, "tmf620": catalog_api,
        "tmf635": usage_api, "tmf654": balance_api, "tmf678": bill_api, "tmf640": service_api}
EXAMPLES = int(os.environ.get("TELORA_FUZZ_EXAMPLES", "4"))
COVERAGE_SHARE = float(os.environ.get("TELORA_FUZZ_COVERAGE", "0.2"))
PICK = random.Random()
APP = get_wsgi_application()
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """One brand filled through the services, committed for the module's operations (each runs in
    a transaction rolled back after it), and removed afterwards as a transactional test would."""
    from django.conf import settings as django_settings
    from django.core.management import call_command
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from telora.core import clock
    from telora.core.services.actors import Actor
    from telora.core.services.brands import create_brand

    media, django_settings.MEDIA_ROOT = django_settings.MEDIA_ROOT, str(tmp_path_factory.mktemp("media"))
    # The WSGI handler would close the test's connection after each request (the test client does the same).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    with django_db_blocker.unblock():
        system = Actor.system("tests")
        brand = create_brand(actor=system, at=clock.now(), code="fuzz", name="Fuzz Mobile", currency="EUR",
                             timezone="Europe/Amsterdam", country="NL", language="en")
        data = seed(brand, system)
    yield data
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)
        forget_queued_jobs()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    django_settings.MEDIA_ROOT = media


def exercise(case, seeded) -> None:
    """Send the generated request with the key (whatever auth the case made up is dropped), each in
    a savepoint of its own, and check the answer: no 5xx, and the documented schema."""
    if case.meta is not None and case.meta.phase.name == TestPhase.COVERAGE and PICK.random() >= COVERAGE_SHARE:
        return
    for name in list(case.headers or {}):
        if name.lower() in ("authorization", "x-api-key", "cookie"):
            del case.headers[name]
    case.cookies = {}
    with transaction.atomic():
        response = case.call(app=APP, headers={"Authorization": f"Bearer {seeded['token']}"})
        transaction.set_rollback(True)
    case.validate_response(response, checks=CHECKS)


def _fuzz_test(name: str, ninja_api):
    schema = schemathesis.openapi.from_dict(ninja_api.get_openapi_schema())

    @schema.parametrize()
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @pytest.mark.django_db
    def test(case, seeded):
        exercise(case, seeded)

    test.__name__ = f"test_fuzz_{name}"
    return test


for _name, _api in APIS.items():
    globals()[f"test_fuzz_{_name}"] = _fuzz_test(_name, _api)
