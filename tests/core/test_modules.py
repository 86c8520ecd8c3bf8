"""Modules on and off, per installation (TELORA_MODULES) and per brand (Brand.modules_off): menus,
screens, APIs, rights and periodic jobs follow, without code changes."""

import json
import os
import subprocess
import sys

import pytest
from django.test import Client

from telora.core import clock, modules, rights
from telora.core.services import ServiceError
from telora.core.services.brands import update_brand
from telora.core.services.users import create_api_key
from telora.ui.context import menu_for

pytestmark = pytest.mark.django_db
BILLING = ["billing.view", "billing.change", "customers.view"]


@pytest.fixture(autouse=True)
def fresh_cache():
    modules.forget()
    yield
    modules.forget()


@pytest.fixture
def billing_off(brand_a, brand_b, system):
    """Brand A does not use billing; brand B does."""
    update_brand(brand_a, actor=system, at=clock.now(), modules_off=["billing"])
    modules.forget()  # the service forgets on commit; the test's transaction never commits
    return brand_a


def test_a_brand_without_billing_has_no_billing_rights_menu_screens_or_api(billing_off, brand_b, make_user, system):
    ann = make_user("ann", {billing_off: BILLING, brand_b: BILLING})
    assert not rights.has_perm(ann, billing_off, "billing.view") and rights.has_perm(ann, brand_b, "billing.view")
    assert rights.has_perm(ann, billing_off, "customers.view")  # the other modules stay
    assert rights.brands_with(ann, "billing.view") == [brand_b.pk]
    assert "billing" not in [a.code for a in menu_for(ann, billing_off)]
    assert "billing" in [a.code for a in menu_for(ann, brand_b)]

    _key, token = create_api_key(actor=system, at=clock.now(), user=ann, name="t", brands=[billing_off],
                                 permissions=BILLING)
    api = Client(headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/v1/billruns").status_code == 403
    assert api.get("/tmf-api/customerManagement/v4/customer").status_code == 200

    gui = Client()
    gui.force_login(ann)
    session = gui.session
    session["telora_brand_id"] = billing_off.pk
    session.save()
    assert gui.get("/billing/").status_code in (403, 404)
    session["telora_brand_id"] = brand_b.pk
    session.save()
    assert gui.get("/billing/").status_code == 200


def test_a_system_administrator_follows_the_brands_modules_too(billing_off, brand_b, admin_user):
    assert not rights.has_perm(admin_user, billing_off, "billing.view")
    assert rights.brands_with(admin_user, "billing.view") == [brand_b.pk]
    assert rights.brands_with(admin_user, "customers.view") is rights.ALL
    assert "billing" not in [a.code for a in menu_for(admin_user, billing_off)]


def test_periodic_jobs_leave_a_brand_without_the_module_alone(billing_off, brand_b, system, nord_runs):
    from telora.billing.services.resume import resume_stalled

    off_run, on_run = nord_runs(billing_off), nord_runs(brand_b)
    resumed = [run.pk for run in resume_stalled(grace_seconds=0)]
    assert on_run.pk in resumed and off_run.pk not in resumed


@pytest.fixture
def nord_runs(system):
    """nord_runs(brand) -> a production run of the brand left queued with no job (stalled)."""
    import datetime as dt

    from telora.billing.models import BillRun
    from telora.catalog.models import BillCycle

    def make(brand):
        cycle = BillCycle.objects.create(brand=brand, code="M01", name="Monthly", anchor_day=1,
                                         valid_from=dt.date(2024, 1, 1))
        return BillRun.objects.create(brand=brand, kind="production", status="queued", cycle=cycle,
                                      period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 2, 1),
                                      created_at=clock.now() - dt.timedelta(hours=1))

    return make


def test_bad_module_codes_are_refused(brand_a, system, settings):
    with pytest.raises(ServiceError) as refused:
        update_brand(brand_a, actor=system, at=clock.now(), modules_off=["billing", "telepathy"])
    assert refused.value.field == "modules_off" and "telepathy" in refused.value.message
    settings.TELORA_MODULES = ["billing", "telepathy"]
    with pytest.raises(ValueError, match="TELORA_MODULES: unknown module telepathy"):
        modules.installed()


def test_an_installation_without_billing_does_not_mount_it(settings, admin_user, brand_a):
    settings.TELORA_MODULES = ["catalog", "customers", "inventory", "rating"]
    assert not modules.is_installed("billing") and modules.is_installed("users")
    assert not rights.has_perm(admin_user, brand_a, "billing.view")
    assert "billing" not in [a.code for a in menu_for(admin_user, brand_a)]
    gui = Client()
    gui.force_login(admin_user)
    assert gui.get("/billing/").status_code == 404
    assert gui.get("/customers/").status_code == 200


def test_the_api_of_a_module_not_installed_is_not_there():
    """Routes are mounted at start-up: a fresh process with TELORA_MODULES reads the OpenAPI document."""
    code = ("import django, json; django.setup(); from telora.api.main import api; from telora import urls; "
            "print(json.dumps({'paths': sorted(api.get_openapi_schema()['paths']), "
            "'tmf': [str(p.pattern) for p in urls.urlpatterns]}))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "telora.settings",
           "TELORA_MODULES": "catalog,customers,inventory,rating"}
    out = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                    check=True, timeout=120).stdout)
    assert not [p for p in out["paths"] if p.startswith("/api/v1/billruns")]
    assert [p for p in out["paths"] if p.startswith("/api/v1/usage")]
    assert "tmf-api/customerBillManagement/v4/" not in out["tmf"]
    assert "tmf-api/usageManagement/v4/" in out["tmf"]


def test_the_brand_form_turns_modules_off_and_on(brand_a):
    from telora.ui.forms.brands import BrandForm

    data = {"name": brand_a.name, "currency": "EUR", "timezone": "Europe/Amsterdam", "country": "NL",
            "language": "en", "primary_colour": "#206bc4", "secondary_colour": "#1e293b", "is_active": "on",
            "modules": ["catalog", "customers", "rating"]}
    form = BrandForm(data, brand=brand_a)
    assert form.is_valid(), form.errors
    assert form.values()["modules_off"] == sorted(set(modules.switchable()) - {"catalog", "customers", "rating"})
    assert "billing" in form.values()["modules_off"]
