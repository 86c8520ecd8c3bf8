"""Price agreements: the service checks the terms against the catalogue and the rights, audits;
the API lists, adds and ends them; brand B never sees or changes brand A's; the customer page shows
the panel and its form."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services import Actor, ServiceError
from telora.customers import services as s
from telora.customers.models import PriceAgreement

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept")]
PRICING = ["customers.view", "customers.price_agreement"]


def url(customer, tail=""):
    return f"/api/v1/customers/{customer.pk}/price-agreements{tail}"


class TestService:
    def test_a_replacement_rate_is_stored_and_audited(self, ann, system, now):
        agreement = s.add_price_agreement(ann, actor=system, at=now, service="voice", zone="EU", rate_plan="POST_STD",
                                          band="PEAK", price="0.50", unit=60, first_increment=1, next_increment=1,
                                          note="frame contract 2026")
        assert (agreement.price, agreement.unit, agreement.percent, agreement.valid_from, agreement.valid_to) == (
            Decimal("0.50"), 60, None, now, None)
        assert agreement.key == f"customer:{agreement.pk}"
        event = AuditEvent.objects.get(object_type="customers.priceagreement", action="create")
        assert event.changes["zone"][1] == "EU" and Decimal(event.changes["price"][1]) == Decimal("0.50")

    @pytest.mark.parametrize(("values", "field", "reason"), [
        ({"service": "fax", "zone": "EU", "percent": "10"}, "service", "unknown service 'fax'"),
        ({"service": "voice", "zone": "MARS", "percent": "10"}, "zone", "no zone 'MARS'"),
        ({"service": "voice", "zone": "HOME", "percent": "10"}, "zone", "zone HOME has no prefixes"),
        ({"service": "data", "zone": "EU", "percent": "10"}, "zone", "zone EU has no countries"),
        ({"service": "voice", "zone": "EU", "rate_plan": "NOPE", "percent": "10"}, "rate_plan", "no rate plan 'NOPE'"),
        ({"service": "voice", "zone": "EU", "rate_plan": "POST_STD", "band": "NIGHT", "percent": "10"}, "band",
         "rate plan POST_STD has no band 'NIGHT'"),
        ({"service": "voice", "zone": "EU"}, "price", "give a replacement price"),
        ({"service": "voice", "zone": "EU", "price": "1", "unit": 60, "percent": "5"}, "price", "not both"),
        ({"service": "voice", "zone": "EU", "price": "-1", "unit": 60}, "price", "at least 0"),
        ({"service": "voice", "zone": "EU", "price": "0.1234567", "unit": 60}, "price", "6 decimal places"),
        ({"service": "voice", "zone": "EU", "price": "1e20", "unit": 60}, "price", "less than"),
        ({"service": "voice", "zone": "EU", "price": "0.10"}, "unit", "from 1"),
        ({"service": "voice", "zone": "EU", "percent": "120"}, "percent", "at most 100"),
        ({"service": "voice", "zone": "EU", "percent": "0"}, "percent", "more than 0"),
    ])
    def test_bad_terms_name_the_field(self, ann, system, now, values, field, reason):
        with pytest.raises(ServiceError) as caught:
            s.add_price_agreement(ann, actor=system, at=now, **values)
        assert caught.value.field == field and reason in caught.value.message

    def test_the_window_must_run_forward(self, ann, system, now):
        with pytest.raises(ServiceError) as caught:
            s.add_price_agreement(ann, actor=system, at=now, service="voice", zone="EU", percent="10",
                                  valid_from=now, valid_to=now)
        assert caught.value.field == "valid_to"

    def test_a_past_start_needs_the_backdate_right(self, ann, make_user, now):
        user = make_user("pricer", {ann.brand: PRICING})
        with pytest.raises(ServiceError, match="customers.backdate"):
            s.add_price_agreement(ann, actor=Actor(user=user), at=now, service="voice", zone="EU", percent="10",
                                  valid_from=now - dt.timedelta(days=3))
        backdater = make_user("backdater", {ann.brand: [*PRICING, "customers.backdate"]})
        made = s.add_price_agreement(ann, actor=Actor(user=backdater), at=now, service="voice", zone="EU",
                                     percent="10", valid_from=now - dt.timedelta(days=3))
        assert made.valid_from == now - dt.timedelta(days=3)

    def test_customers_change_alone_is_not_enough(self, ann, make_user, now):
        csr = make_user("csr", {ann.brand: ["customers.view", "customers.change"]})
        with pytest.raises(ServiceError, match="customers.price_agreement"):
            s.add_price_agreement(ann, actor=Actor(user=csr), at=now, service="voice", zone="EU", percent="10")

    def test_ending_keeps_the_row_and_audits(self, ann, system, now):
        agreement = s.add_price_agreement(ann, actor=system, at=now, service="sms", zone="DK", percent="50")
        later = now + dt.timedelta(hours=2)
        ended = s.end_price_agreement(agreement, actor=system, at=later)
        assert ended.valid_to == later and not ended.in_effect(later) and ended.in_effect(now)
        with pytest.raises(ServiceError) as caught:
            s.end_price_agreement(ended, actor=system, at=later + dt.timedelta(hours=1))
        assert caught.value.field == "end_at"
        assert AuditEvent.objects.filter(object_type="customers.priceagreement", action="update").count() == 1


class TestApi:
    def test_list_add_and_end(self, api_for, ann):
        api = api_for({ann.brand: PRICING})
        made = api.post(url(ann), {"service": "voice", "zone": "EU", "price": "0.45", "unit": 60,
                                   "first_increment": 30, "next_increment": 6, "setup": "0.05"})
        assert made.status_code == 201, made.json()
        body = made.json()
        assert (body["price"], body["setup"], body["percent"], body["rate_plan"], body["key"]) == (
            "0.450000", "0.050000", None, None, f"customer:{body['id']}")
        listed = api.get(url(ann))
        assert [a["id"] for a in listed.json()] == [body["id"]]
        ended = api.post(url(ann, f"/{body['id']}/end"), {})
        assert ended.status_code == 200 and ended.json()["valid_to"] is not None

    def test_bad_input_is_a_400_naming_the_field(self, api_for, ann):
        api = api_for({ann.brand: PRICING})
        refused = api.post(url(ann), {"service": "voice", "zone": "EU", "percent": "150"})
        assert refused.status_code == 400 and refused.json()["field"] == "percent"

    def test_reading_needs_view_and_writing_the_right(self, api_for, ann):
        reader = api_for({ann.brand: ["customers.view", "customers.change"]})
        assert reader.get(url(ann)).status_code == 200
        assert reader.post(url(ann), {"service": "voice", "zone": "EU", "percent": "10"}).status_code == 403
        assert not PriceAgreement.objects.exists()

    def test_brand_b_neither_sees_nor_changes_brand_as_agreements(self, api_for, ann, other_shop, system):
        agreement = s.add_price_agreement(ann, actor=system, at=clock.now(), service="voice", zone="EU", percent="10")
        other = api_for({other_shop: PRICING})
        assert other.get(url(ann)).status_code == 404
        assert other.post(url(ann), {"service": "voice", "zone": "EU", "percent": "10"}).status_code == 404
        assert other.post(url(ann, f"/{agreement.pk}/end"), {}).status_code == 404
        agreement.refresh_from_db()
        assert agreement.valid_to is None and PriceAgreement.objects.count() == 1


class TestPanel:
    def login(self, make_user, brand, perms, name):
        user = make_user(name, {brand: perms})
        client = Client()
        client.force_login(user)
        return client

    def test_the_panel_lists_and_the_form_adds_and_ends(self, make_user, ann, system):
        client = self.login(make_user, ann.brand, PRICING, "pricer")
        page = client.get(f"/customers/{ann.pk}/")
        assert page.status_code == 200 and b'data-testid="agreement-form"' in page.content
        added = client.post(f"/customers/{ann.pk}/agreements/new/", {
            "service": "voice", "zone": "EU", "rate_plan": "POST_STD", "price": "0.40", "unit": "60",
            "first_increment": "1", "next_increment": "1", "valid_from": "", "note": "frame deal"}, follow=True)
        agreement = PriceAgreement.objects.get()
        assert (agreement.rate_plan, agreement.price, agreement.note) == ("POST_STD", Decimal("0.40"), "frame deal")
        assert f'data-testid="agreement-{agreement.pk}"'.encode() in added.content
        client.post(f"/customers/{ann.pk}/agreements/{agreement.pk}/end/")
        agreement.refresh_from_db()
        assert agreement.valid_to is not None

    def test_a_form_error_is_shown_and_nothing_stored(self, make_user, ann):
        client = self.login(make_user, ann.brand, PRICING, "pricer")
        page = client.post(f"/customers/{ann.pk}/agreements/new/", {
            "service": "voice", "zone": "MARS", "percent": "10", "first_increment": "1", "next_increment": "1"},
            follow=True)
        assert b"no zone &#x27;MARS&#x27;" in page.content or b"no zone 'MARS'" in page.content
        assert not PriceAgreement.objects.exists()

    def test_without_the_right_no_form_and_a_post_is_refused(self, make_user, ann):
        client = self.login(make_user, ann.brand, ["customers.view", "customers.change"], "csr")
        page = client.get(f"/customers/{ann.pk}/")
        assert b'data-testid="agreements-panel"' in page.content and b'data-testid="agreement-form"' not in page.content
        refused = client.post(f"/customers/{ann.pk}/agreements/new/", {"service": "voice", "zone": "EU",
                                                                      "percent": "10"})
        assert refused.status_code == 403 and not PriceAgreement.objects.exists()

    def test_another_brands_user_gets_404(self, make_user, ann, other_shop):
        client = self.login(make_user, other_shop, PRICING, "other")
        assert client.post(f"/customers/{ann.pk}/agreements/new/", {"service": "voice", "zone": "EU",
                                                                    "percent": "10"}).status_code == 404
