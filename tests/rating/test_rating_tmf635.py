"""TMF635 usage: rated usage in the Usage shape with its rating, exact amounts, bounded lists,
filters, rights and brand isolation."""

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from rating_api_helpers import ApiClient, client_for, exact
from rating_helpers import CDRS

from telora.core import clock
from telora.rating.models import RatedUsage
from telora.rating.services import import_usage_file, rate_pending

D = Decimal
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("nord_kept")]

USAGE = "/tmf-api/usageManagement/v4/usage"
OCTOBER = {"usageDate.gt": "2026-10-01T00:00:00+02:00", "usageDate.lt": "2026-11-01T00:00:00+01:00"}


def spec_fields(definition):
    spec = json.loads(open("/work/shared/tmf/TMF635-Usage-v4.0.0.swagger.json").read())
    return set(spec["definitions"][definition]["properties"])


@pytest.fixture
def rated(nord, line_for, system):
    """The example file rated: nine records of 4520000001 (MOB_POST_BASIC)."""
    sub = line_for("4520000001")
    line_for("4520000002")
    import_usage_file(nord, CDRS, format="csv", source="nord-msc", actor=system, at=clock.now())
    rate_pending(nord)
    return sub


@pytest.fixture
def viewer(nord, system, make_user):
    return client_for(system, make_user, "vic", {nord: ["rating.view"]})


def test_a_rated_call_in_the_usage_shape(rated, viewer):
    row = RatedUsage.objects.get(record_id="nord-0001")
    response = viewer.get(f"{USAGE}/{row.pk}")
    assert response.status_code == 200, response.content
    body = exact(response)
    assert set(body) <= spec_fields("Usage")
    assert set(body["ratedProductUsage"][0]) <= spec_fields("RatedProductUsage")
    customer = rated.customer
    assert {k: v for k, v in body.items() if k not in ("usageCharacteristic", "ratedProductUsage")} == {
        "id": str(row.pk), "href": f"{USAGE}/{row.pk}", "@type": "Usage",
        "description": "voice from 4520000001 to 4533123456",
        "usageDate": "2026-10-05T07:15:00Z", "usageType": "voice", "status": "rated",
        "relatedParty": [{"id": str(customer.pk), "href": f"/tmf-api/customerManagement/v4/customer/{customer.pk}",
                          "name": customer.name, "role": "customer", "@referredType": "Customer"}],
    }
    chars = {c["name"]: c["value"] for c in body["usageCharacteristic"]}
    assert chars == {
        "originatingNumber": "4520000001", "destinationNumber": "4533123456", "duration": 125, "unit": "second",
        "location": "DK", "direction": "out", "recordId": "nord-0001", "source": "nord-msc",
        "zone": "DK", "timeBand": "PEAK", "ratePlan": row.rate_plan, "rateKey": row.rate_key,
        "chargedQuantity": 125, "discount": D("0"),
    }
    assert row.rate_plan and row.rate_key
    usage = body["ratedProductUsage"][0]
    assert usage["taxExcludedRatingAmount"] == {"unit": "DKK", "value": D("0.625")}
    assert b'"value": 0.625}' in response.content  # a JSON number with its digits, as TMF666 writes money
    assert (usage["isBilled"], usage["ratingAmountType"], usage["usageRatingTag"], usage["offerTariffType"]) == (
        False, "total", "usage", "DK")
    assert usage["productRef"] == {"id": str(rated.pk), "href": f"/tmf-api/productInventory/v4/product/{rated.pk}",
                                   "name": "4520000001", "@referredType": "Product"}
    assert usage["ratingDate"]


def test_amounts_keep_their_digits(rated, viewer):
    content = RatedUsage.objects.get(record_id="nord-0009")
    body = exact(viewer.get(f"{USAGE}/{content.pk}"))
    assert body["ratedProductUsage"][0]["taxExcludedRatingAmount"] == {"unit": "DKK", "value": D("19")}
    call = RatedUsage.objects.get(record_id="nord-0002")
    body = exact(viewer.get(f"{USAGE}/{call.pk}"))
    assert body["ratedProductUsage"][0]["taxExcludedRatingAmount"]["value"] == D("0.455833")


def test_bundle_use_and_prepaid_balance_are_explained(nord, line_for, system, viewer):
    from telora.rating.services.balances import top_up

    post = line_for("4520000001", plan="MOB_POST_10GB")
    pre = line_for("4520000002", plan="MOB_PRE")
    top_up(pre, D("20"), actor=system, at=clock.now())
    header = b"record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"
    import_usage_file(nord, header + b"x-1,voice,4520000001,4533123456,2026-10-05T09:15:00+02:00,125,,,,\n"
                      b"x-2,sms,4520000002,4533123456,2026-10-05T09:15:00+02:00,,,1,,\n",
                      format="csv", source="s", actor=system, at=clock.now())
    rate_pending(nord)
    included = exact(viewer.get(f"{USAGE}/{RatedUsage.objects.get(record_id='x-1').pk}"))
    chars = {c["name"]: c["value"] for c in included["usageCharacteristic"]}
    assert chars["bundleUse"] == [{"bundle": "DK_TALK_500", "allowance": 0, "units": 125,
                                   "periodStart": "2026-10-01"}]
    assert included["ratedProductUsage"][0]["usageRatingTag"] == "included usage"
    assert included["ratedProductUsage"][0]["taxExcludedRatingAmount"]["value"] == D("0")
    assert included["ratedProductUsage"][0]["productRef"]["id"] == str(post.pk)
    prepaid = exact(viewer.get(f"{USAGE}/{RatedUsage.objects.get(record_id='x-2').pk}"))
    chars = {c["name"]: c["value"] for c in prepaid["usageCharacteristic"]}
    assert chars["balanceAfter"] == D("19.61")  # 20 - 0.39
    assert prepaid["ratedProductUsage"][0]["taxExcludedRatingAmount"]["value"] == D("0.39")


def test_lists_are_newest_first_and_bounded(rated, viewer):
    listed = viewer.get(USAGE, **OCTOBER)
    assert listed["X-Total-Count"] == "9"
    ids = [{c["name"]: c["value"] for c in u["usageCharacteristic"]}["recordId"] for u in listed.json()]
    assert ids == ["nord-0007", "nord-0004", "nord-0009", "nord-0008", "nord-0003", "nord-0006", "nord-0005",
                   "nord-0002", "nord-0001"]
    starts = [u["usageDate"] for u in listed.json()]
    assert starts == sorted(starts, reverse=True)
    # without a subscription and without usageDate.gt: the 31 days before now (late November) hold nothing
    assert viewer.get(USAGE).json() == [] and viewer.get(USAGE)["X-Total-Count"] == "0"
    # ... the 31 days before usageDate.lt
    assert viewer.get(USAGE, **{"usageDate.lt": "2026-10-06T00:00:00+02:00"})["X-Total-Count"] == "5"
    with time_machine.travel(dt.datetime(2026, 10, 20, tzinfo=dt.UTC), tick=False):
        assert viewer.get(USAGE)["X-Total-Count"] == "9"
    with time_machine.travel(dt.datetime(2026, 11, 10, tzinfo=dt.UTC), tick=False):
        assert viewer.get(USAGE)["X-Total-Count"] == "2"  # 10 and 12 October are within 31 days
    # with the subscription (or its customer), no date bound is needed
    assert viewer.get(USAGE, **{"product.id": str(rated.pk)})["X-Total-Count"] == "9"
    assert viewer.get(USAGE, subscription=str(rated.pk))["X-Total-Count"] == "9"
    assert viewer.get(USAGE, **{"relatedParty.id": str(rated.customer_id)})["X-Total-Count"] == "9"


def test_filters(rated, viewer):
    def count(**params):
        response = viewer.get(USAGE, **{**OCTOBER, **params})
        assert response.status_code == 200, response.content
        return int(response["X-Total-Count"])

    assert count(usageType="data") == 2
    assert count(usageType="sms,content") == 2
    assert count(status="rated") == 9 and count(status="billed") == 0
    assert count(**{"usageDate.gt": "2026-10-05T09:15:00+02:00"}) == 8  # strictly after nord-0001
    assert count(**{"usageDate.gte": "2026-10-05T09:15:00+02:00"}) == 9
    assert count(**{"usageDate.lte": "2026-10-05T09:15:00+02:00"}) == 1
    assert count(**{"product.id": "999999"}) == 0
    bad = viewer.get(USAGE, **{"product.id": "abc"})
    assert (bad.status_code, bad.json()["field"]) == (400, "product.id")
    picked = viewer.get(USAGE, **OCTOBER, fields="usageType", limit=1).json()
    assert set(picked[0]) == {"id", "href", "@type", "usageType"}


def test_rights_and_brand_isolation(rated, brand_b, system, make_user):
    row = RatedUsage.objects.get(record_id="nord-0001")
    no_rating = client_for(system, make_user, "carl", {rated.brand: ["customers.view"]})
    assert no_rating.get(USAGE, **OCTOBER).status_code == 403
    assert no_rating.get(f"{USAGE}/{row.pk}").status_code == 403
    assert ApiClient().get(USAGE).status_code == 401
    other = client_for(system, make_user, "bob", {brand_b: ["rating.view"]})
    assert other.get(USAGE, **OCTOBER).json() == []
    assert other.get(USAGE, **{"product.id": str(rated.pk)}).json() == []
    assert other.get(f"{USAGE}/{row.pk}").status_code == 404
    assert other.get(f"{USAGE}/nope").status_code == 404
