"""The brand's billing settings screen (the prepaid renewal policy and its grace among them): shown
with billing.view, changed with billing.change, audited, bad values refused naming the field, and
only the active brand's settings are ever read or changed; a line's renewals on its usage page."""

import datetime as dt
from decimal import Decimal as D

import pytest
import time_machine
from billing_helpers import cph
from django.urls import reverse

from gui_helpers import form_errors, login
from telora.billing.models import BillingSettings
from telora.billing.services.renewals import renew_due
from telora.billing.services.runs import settings_of
from telora.core.models import AuditEvent
from telora.core.services.actors import Actor
from telora.rating.models import PrepaidBalance

pytestmark = pytest.mark.usefixtures("nord_kept")

URL = "billing:settings"
VALUES = {"payment_terms_days": "14", "iban": "", "large_adjustment": "500.00", "late_usage_periods": "3",
          "late_usage_report_periods": "3", "prepaid_renewal_policy": "go_negative",
          "prepaid_renewal_grace": "10.00"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(cph("2026-03-02T09:00"), tick=False):
        yield


def test_finance_sets_the_renewal_policy(nord, make_user):
    finance = login(make_user("fiona", {nord: ["billing.view", "billing.change"]}), nord)
    page = finance.get(reverse(URL))
    assert page.status_code == 200 and b'data-testid="billing-settings-form"' in page.content
    assert page.context["form"].initial["prepaid_renewal_policy"] == "skip_bundles"  # the default
    answer = finance.post(reverse(URL), VALUES)
    assert answer.status_code == 302 and answer["Location"] == reverse(URL)
    row = BillingSettings.objects.get(brand=nord)
    assert (row.prepaid_renewal_policy, row.prepaid_renewal_grace) == ("go_negative", D("10.00"))
    event = AuditEvent.objects.get(action="billing_settings_change")
    assert event.changes["prepaid_renewal_policy"] == ["skip_bundles", "go_negative"]
    assert event.actor_user.username == "fiona"


def test_bad_values_are_refused_naming_the_field(nord, make_user):
    finance = login(make_user("fiona", {nord: ["billing.view", "billing.change"]}), nord)
    for field, value in [("prepaid_renewal_grace", "-1"), ("prepaid_renewal_policy", "free_for_all"),
                         ("prepaid_renewal_grace", "1e30"), ("payment_terms_days", "9999")]:
        answer = finance.post(reverse(URL), VALUES | {field: value})
        assert answer.status_code == 200 and field in form_errors(answer), (field, value)
    assert settings_of(nord).prepaid_renewal_policy == "skip_bundles"


def test_rights_and_brands(nord, make_user, make_brand):
    viewer = login(make_user("vera", {nord: ["billing.view"]}), nord)
    page = viewer.get(reverse(URL))
    assert page.status_code == 200 and b'data-testid="submit"' not in page.content
    assert viewer.post(reverse(URL), VALUES).status_code == 403
    assert login(make_user("nils", {nord: ["customers.view"]}), nord).get(reverse(URL)).status_code == 403
    # finance of another brand changes its own brand's settings, never NORD's, even naming NORD
    other = make_brand("SYD", currency="DKK", timezone="Europe/Copenhagen", country="DK")
    stranger = make_user("sven", {other: ["billing.view", "billing.change"]})
    assert login(stranger, other).post(reverse(URL), VALUES).status_code == 302
    assert settings_of(other).prepaid_renewal_policy == "go_negative"
    # a session naming NORD falls back to the user's own brand: SYD's settings change
    answer = login(stranger, nord).post(reverse(URL), VALUES | {"prepaid_renewal_grace": "99.00"})
    assert answer.status_code == 302
    assert not BillingSettings.objects.filter(brand=nord).exists()
    assert settings_of(other).prepaid_renewal_grace == D("99.00")


def test_the_lines_renewals_show_on_its_usage_page(nord, account_for, subscribe, make_user):
    sub = subscribe(account_for("Pre Paid"), "2026-02-01", plan="MOB_PRE")
    PrepaidBalance.objects.create(subscription=sub, balance=D("20"), updated_at=cph("2026-02-01"))
    renew_due(nord, dt.date(2026, 2, 1), actor=Actor.system("tests"), at=cph("2026-02-01T00:10"))
    renew_due(nord, dt.date(2026, 3, 1), actor=Actor.system("tests"), at=cph("2026-03-01T00:10"))
    csr = login(make_user("carl", {nord: ["rating.view", "customers.view"]}), nord)
    page = csr.get(reverse("rating:subscription_usage", args=[sub.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-renewal="skipped"' in html and "not renewed: balance too low" in html
    assert 'data-renewal="paid"' in html and "2026-02-01 – 2026-03-01" in html
