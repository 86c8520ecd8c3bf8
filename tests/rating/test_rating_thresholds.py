"""The low-balance threshold: 5.00 by default, the brand's from its rating settings, a prepaid plan
product's own before the brand's; events fire where the balance crosses it. The product field
goes through the catalogue YAML and back; the settings screen is the brand's alone and changing
it needs rating.change."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse
from rating_helpers import CATALOG

from gui_helpers import login
from telora.catalog.export import export_tree
from telora.catalog.schema.errors import CatalogError
from telora.catalog.services.apply import apply_catalog
from telora.catalog.yamlio import load
from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services.actors import Actor, PermissionDeniedError
from telora.rating.models import BalanceEvent, RatingSettings
from telora.rating.services import import_usage_file, rate_pending
from telora.rating.services.balances import top_up
from telora.rating.services.context import forget_tariffs
from telora.rating.services.settings import rating_settings, update_rating_settings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]

HEADER = b"record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"
DAY0 = dt.date(2024, 1, 1)


def prepaid(line_for, system, number: str, balance: str):
    sub = line_for(number, plan="MOB_PRE")
    top_up(sub, D(balance), actor=system, at=clock.now(), reference="voucher")
    return sub


def one_sms_each(brand, system, numbers, name="s.csv"):
    """One SMS (0.39 on PRE_STD) for each number."""
    rows = b"".join(f"{name}-{n},sms,{n},4533123456,2026-11-05T09:15:00+01:00,,,1,,\n".encode() for n in numbers)
    import_usage_file(brand, HEADER + rows, format="csv", source="msc", actor=system, at=clock.now(), name=name)
    rate_pending(brand)


def events(sub):
    return list(BalanceEvent.objects.filter(subscription=sub).values_list("kind", "balance", "threshold"))


def catalogue_with(threshold=None, product="MOB_PRE"):
    data = load(CATALOG.read_text())
    for spec in data["products"]:
        if spec["code"] == product and threshold is not None:
            spec["low_balance_threshold"] = threshold
    return data


def test_the_default_is_five(nord, line_for, system):
    low, high = prepaid(line_for, system, "4520000003", "5.20"), prepaid(line_for, system, "4520000004", "5.40")
    one_sms_each(nord, system, ["4520000003", "4520000004"])
    assert events(low) == [("LOW_BALANCE", D("4.81"), D("5"))]
    assert events(high) == []  # 5.01 is above 5
    assert rating_settings(nord).low_balance_threshold == D("5.00") and not RatingSettings.objects.exists()


def test_the_brands_threshold_applies(nord, line_for, system):
    update_rating_settings(nord, actor=system, at=clock.now(), low_balance_threshold="8.00")
    crossing, above = prepaid(line_for, system, "4520000003", "8.30"), prepaid(line_for, system, "4520000004", "9.00")
    one_sms_each(nord, system, ["4520000003", "4520000004"])
    assert events(crossing) == [("LOW_BALANCE", D("7.91"), D("8"))]
    assert events(above) == []
    event = AuditEvent.objects.get(object_type="rating.ratingsettings")
    assert (event.action, event.changes) == ("update", {"low_balance_threshold": ["5.00", "8.00"]})


def test_the_plan_products_threshold_wins_over_the_brands(nord, line_for, system):
    update_rating_settings(nord, actor=system, at=clock.now(), low_balance_threshold="8.00")
    apply_catalog(catalogue_with("2.50"), actor=system, at=clock.now(), effective_from=DAY0)
    forget_tariffs()
    crossing, above = prepaid(line_for, system, "4520000003", "2.80"), prepaid(line_for, system, "4520000004", "7.00")
    one_sms_each(nord, system, ["4520000003", "4520000004"])
    assert events(crossing) == [("LOW_BALANCE", D("2.41"), D("2.5"))]
    assert events(above) == []  # 6.61 is under the brand's 8.00, but the plan says 2.50


def test_the_product_field_round_trips_through_yaml(nord, system):
    apply_catalog(catalogue_with("2.50"), actor=system, at=clock.now(), effective_from=DAY0)
    tree = export_tree(nord, clock.today(nord))
    spec = next(p for p in tree["products"] if p["code"] == "MOB_PRE")
    assert spec["low_balance_threshold"] == "2.50"
    assert all("low_balance_threshold" not in p for p in tree["products"] if p["code"] != "MOB_PRE")
    again = apply_catalog(tree, actor=system, at=clock.now(), effective_from=clock.today(nord))
    assert again.changes == []
    # removed from the YAML: the product goes back to the brand's threshold
    apply_catalog(catalogue_with(None), actor=system, at=clock.now(), effective_from=clock.today(nord))
    tree = export_tree(nord, clock.today(nord))
    assert "low_balance_threshold" not in next(p for p in tree["products"] if p["code"] == "MOB_PRE")


@pytest.mark.parametrize(("product", "value", "words"), [
    ("MOB_POST_BASIC", "2.50", "only a prepaid plan has a low-balance threshold"),
    ("MOB_PRE", "-1", "must not be less than 0"),
    ("MOB_PRE", 2.5, "write the threshold as a string"),
    ("MOB_PRE", "1.1234567", "at most 6 decimal places"),
])
def test_bad_product_thresholds_are_refused_naming_the_field(nord, system, product, value, words):
    data = catalogue_with(value, product)
    index = next(i for i, p in enumerate(data["products"]) if p["code"] == product)
    with pytest.raises(CatalogError) as refused:
        apply_catalog(data, actor=system, at=clock.now(), effective_from=DAY0)
    assert any(path == f"products[{index}].low_balance_threshold" and words in message
               for path, message in refused.value.errors), refused.value.errors


@pytest.mark.parametrize(("value", "words"), [("-1", "an amount from 0"), ("abc", "is not an amount"),
                                              ("1.0000001", "at most 6 decimals"), ("1e12", "an amount from 0")])
def test_bad_brand_thresholds_are_refused(nord, system, value, words):
    from telora.core.services.actors import ServiceError

    with pytest.raises(ServiceError) as refused:
        update_rating_settings(nord, actor=system, at=clock.now(), low_balance_threshold=value)
    assert refused.value.field == "low_balance_threshold" and words in refused.value.message


def test_the_settings_screen_is_the_brands_own_and_needs_rating_change(nord, make_brand, make_user):
    other = make_brand("bravo", currency="GBP", timezone="Europe/London", country="GB")
    url = reverse("rating:settings")
    changer = login(make_user("cara", {nord: ["rating.view", "rating.change"]}), nord)
    page = changer.get(url)
    assert page.status_code == 200 and page.context["form"].initial["low_balance_threshold"] == D("5")
    assert changer.post(url, {"low_balance_threshold": "7.50"}).status_code == 302
    assert rating_settings(nord).low_balance_threshold == D("7.5")
    assert not RatingSettings.objects.filter(brand=other).exists()
    refused = changer.post(url, {"low_balance_threshold": "-2"})
    assert refused.status_code == 200 and refused.context["form"].errors["low_balance_threshold"]

    # a user of the other brand works on that brand's row only, even asking for NORD in the session
    bravo = make_user("bert", {other: ["rating.view", "rating.change"]})
    assert login(bravo, other).post(url, {"low_balance_threshold": "1.00"}).status_code == 302
    assert rating_settings(other).low_balance_threshold == D("1")
    # NORD asked for in the session is not one of bert's brands: he works in his own
    assert login(bravo, nord).post(url, {"low_balance_threshold": "99"}).status_code == 302
    assert rating_settings(other).low_balance_threshold == D("99")
    assert rating_settings(nord).low_balance_threshold == D("7.5")

    viewer = login(make_user("vera", {nord: ["rating.view"]}), nord)
    shown = viewer.get(url)
    assert shown.status_code == 200 and shown.context["form"].fields["low_balance_threshold"].disabled
    assert viewer.post(url, {"low_balance_threshold": "1.00"}).status_code == 403
    assert login(make_user("cody", {nord: ["customers.view"]}), nord).get(url).status_code == 403
    assert rating_settings(nord).low_balance_threshold == D("7.5")


def test_the_service_needs_rating_change_in_the_brand(nord, make_brand, make_user):
    other = make_brand("bravo", currency="GBP", timezone="Europe/London", country="GB")
    viewer = make_user("vera", {nord: ["rating.view"], other: ["rating.view", "rating.change"]})
    with pytest.raises(PermissionDeniedError):
        update_rating_settings(nord, actor=Actor(user=viewer), at=clock.now(), low_balance_threshold="1")
    update_rating_settings(other, actor=Actor(user=viewer), at=clock.now(), low_balance_threshold="1")
    assert not RatingSettings.objects.filter(brand=nord).exists()
