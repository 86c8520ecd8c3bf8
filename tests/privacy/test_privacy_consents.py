"""Consents per purpose: every decision kept as history, the latest holds; on the customer page and in
the TMF644 PartyPrivacyProfile shape; another brand's consents and customers are a 404."""

from __future__ import annotations

import datetime as dt

import pytest

from gui_helpers import login
from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services.actors import ServiceError
from telora.privacy.models import Consent
from telora.privacy.selectors import consent_history, current_consents
from telora.privacy.services import record_consent

pytestmark = pytest.mark.usefixtures("shop_kept")

BASE = "/tmf-api/privacyManagement/v4/partyPrivacyProfile"


def test_a_new_decision_keeps_the_history(ann, system):
    later = clock.now() + dt.timedelta(minutes=5)
    record_consent(ann, actor=system, at=later, purpose="marketing_email", granted=False, channel="phone")
    record_consent(ann, actor=system, at=later, purpose="profiling", granted=True, channel="gui")
    assert [(c.purpose, c.granted) for c in current_consents(ann)] == [("marketing_email", False),
                                                                       ("profiling", True)]
    assert [(c.purpose, c.granted) for c in consent_history(ann)][-1] == ("marketing_email", True)
    assert Consent.objects.filter(customer=ann).count() == 3
    assert AuditEvent.objects.filter(object_type="privacy.consent", action="consent").count() == 3


def test_a_consent_names_what_is_wrong(ann, system):
    with pytest.raises(ServiceError, match="purpose: 'spam' is not one of") as refused:
        record_consent(ann, actor=system, at=clock.now(), purpose="spam", granted=True, channel="gui")
    assert refused.value.field == "purpose"
    with pytest.raises(ServiceError, match="channel"):
        record_consent(ann, actor=system, at=clock.now(), purpose="profiling", granted=True, channel="pigeon")
    with pytest.raises(ServiceError, match="at: a consent cannot be given in the future"):
        record_consent(ann, actor=system, at=clock.now(), purpose="profiling", granted=True, channel="gui",
                       given_at=clock.now() + dt.timedelta(days=1))


def test_the_customer_page_shows_and_records_consents(ann, make_user):
    csr = make_user("csr", {ann.brand: ["customers.view", "customers.change"]})
    client = login(csr, ann.brand)
    page = client.get(f"/customers/{ann.pk}/").content.decode()
    assert 'data-testid="consent-form"' in page and "signed form 17" in page
    posted = client.post(f"/privacy/customers/{ann.pk}/consents/",
                         {"purpose": "marketing_sms", "granted": "no", "channel": "phone", "source": "call 5"})
    assert posted.status_code == 302
    consent = Consent.objects.get(purpose="marketing_sms")
    assert consent.granted is False and consent.recorded_by == "csr" and consent.source == "call 5"


def test_tmf644_profiles_list_get_and_post(ann, api_for):
    api = api_for({ann.brand: ["customers.view", "customers.change"]})
    created = api.post(BASE, {
        "agreedByParty": {"id": str(ann.pk), "@referredType": "Customer"},
        "partyPrivacyProfileCharacteristic": [
            {"name": "marketing_email", "privacyUsagePurpose": "marketing_email", "value": False},
            {"name": "channel", "value": "selfcare"}],
    })
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["@type"] == "PartyPrivacyProfile" and body["status"] == "active"
    assert body["href"] == f"{BASE}/{body['id']}" and created["Location"] == body["href"]
    assert body["agreedByParty"] == {"id": str(ann.pk), "href": f"/tmf-api/customerManagement/v4/customer/{ann.pk}",
                                     "name": ann.name, "role": "customer", "@referredType": "Customer"}
    purpose = body["partyPrivacyProfileCharacteristic"][0]
    assert purpose == {"name": "marketing_email", "privacyUsagePurpose": "marketing_email", "value": False,
                       "valueType": "boolean"}
    listed = api.get(BASE, **{"agreedByParty.id": str(ann.pk), "purpose": "marketing_email"}).json()
    assert [p["status"] for p in listed] == ["active", "terminated"]
    old = listed[1]
    assert old["validFor"]["endDateTime"] == body["validFor"]["startDateTime"]
    assert api.get(f"{BASE}/{old['id']}").json()["status"] == "terminated"
    bad = api.post(BASE, {"agreedByParty": {"id": str(ann.pk), "@referredType": "Customer"},
                          "partyPrivacyProfileCharacteristic": [{"name": "x", "value": True}]})
    assert bad.status_code == 400 and "privacyUsagePurpose" in bad.json()["message"]


def test_another_brand_reads_and_writes_no_consents_of_ours(ann, other_shop, api_for):
    theirs = api_for({other_shop: ["customers.view", "customers.change"]})
    consent = Consent.objects.get(customer=ann)
    assert theirs.get(f"{BASE}/{consent.pk}").status_code == 404
    assert theirs.get(BASE, **{"agreedByParty.id": str(ann.pk)}).json() == []
    posted = theirs.post(BASE, {"agreedByParty": {"id": str(ann.pk), "@referredType": "Customer"},
                                "partyPrivacyProfileCharacteristic": [
                                    {"name": "profiling", "privacyUsagePurpose": "profiling", "value": True}]})
    assert posted.status_code == 404
    assert Consent.objects.filter(customer=ann).count() == 1
