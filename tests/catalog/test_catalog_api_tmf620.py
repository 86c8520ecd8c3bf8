"""TMF620 Product Catalog over HTTP: shapes, exact money, lifecycle, filters, paging, rights and sharing."""

import datetime as dt
from decimal import Decimal

import pytest
from catalog_api_helpers import TMF620, ApiClient, client_for, exact
from catalog_helpers import DAY0

from telora.catalog import models as m
from telora.core import clock

pytestmark = pytest.mark.django_db

VIEW = ["catalog.view"]


def alpha_catalogue(brand):
    return {"version": 1, "brand": {"code": brand.code, "name": brand.name, "currency": brand.currency,
                                    "timezone": brand.timezone, "country": brand.country,
                                    "language": brand.language},
            "products": [{"code": "ALPHA_PLAN", "name": "Alpha plan", "kind": "plan",
                          "service_type": "mobile_postpaid", "recurring": "10.00"}]}


@pytest.fixture
def brands(apply, reference, brand_a, brand_b, make_brand):
    """NORD (the reference file, shared with bravo and charlie), alpha with its own one-product catalogue."""
    reference["brand"]["shared_with"] = [brand_b.code, make_brand("charlie").code]
    apply(reference, effective_from=DAY0)
    apply(alpha_catalogue(brand_a), effective_from=DAY0)
    return m.Product.objects.get(code="MOB_POST_10GB").brand


@pytest.fixture
def nord_api(brands, system, make_user):
    return client_for(system, make_user, "nils", {brands: VIEW})


def offering(api, code):
    response = api.get(f"{TMF620}/productOffering", code=code)
    assert response.status_code == 200, response.content
    (item,) = response.json()
    return item


def test_a_product_is_a_product_offering(nord_api):
    product = m.Product.objects.get(code="MOB_POST_10GB")
    item = offering(nord_api, "MOB_POST_10GB")
    assert item == {
        "id": str(product.pk), "href": f"{TMF620}/productOffering/{product.pk}", "@type": "ProductOffering",
        "name": "Mobil 10 GB", "code": "MOB_POST_10GB", "lifecycleStatus": "Launched", "isBundle": False,
        "isSellable": True, "validFor": {"startDateTime": "2026-01-01T00:00:00+01:00"},
        "category": [{"id": "plan", "href": f"{TMF620}/category/plan", "name": "Plans", "@referredType": "Category"}],
        "productSpecification": {"id": str(product.pk), "href": f"{TMF620}/productSpecification/{product.pk}",
                                 "name": "Mobil 10 GB", "@referredType": "ProductSpecification"},
        "productOfferingPrice": item["productOfferingPrice"],
        "productOfferingTerm": [{"name": "commitment", "description": "6 months minimum",
                                 "duration": {"amount": 6, "units": "month"}}],
        "catalog": {"id": "NORD", "href": f"{TMF620}/catalog/NORD", "name": "Nordmobil", "@referredType": "Catalog"},
    }
    assert sorted(ref["name"] for ref in item["productOfferingPrice"]) == ["Activation fee", "Mobil 10 GB"]
    assert all(ref["@referredType"] == "ProductOfferingPrice" for ref in item["productOfferingPrice"])
    one = nord_api.get(item["href"])
    assert one.status_code == 200 and one.json() == item


def test_prices_are_tmf_money_with_exact_values(nord_api):
    product_id = offering(nord_api, "MOB_POST_10GB")["id"]
    response = nord_api.get(f"{TMF620}/productOfferingPrice", **{"productOffering.id": product_id})
    assert response.status_code == 200
    assert b'"value": 149.00' in response.content and b'"value": 99.00' in response.content
    prices = {p["chargeCode"]: p for p in exact(response)}
    recurring, activation = prices["recurring"], prices["ACTIVATION"]
    assert recurring["price"] == {"unit": "DKK", "value": Decimal("149.00")}
    assert (recurring["priceType"], recurring["recurringChargePeriodType"], recurring["recurringChargePeriodLength"]) \
        == ("recurring", "month", 1)
    assert recurring["name"] == "Mobil 10 GB" and recurring["@type"] == "ProductOfferingPrice"
    assert recurring["productOffering"]["id"] == product_id
    assert activation["priceType"] == "oneTime" and "recurringChargePeriodType" not in activation
    assert activation["name"] == "Activation fee" and activation["price"]["value"] == Decimal("99.00")
    assert recurring["lifecycleStatus"] == "Launched"
    assert recurring["validFor"] == {"startDateTime": "2026-01-01T00:00:00+01:00"}


def test_amounts_beyond_float_precision_stay_exact(apply, reference, nord_api):
    reference["products"][0]["recurring"] = "123456789012.345678"
    apply(reference, effective_from=DAY0)
    product_id = offering(nord_api, "MOB_POST_10GB")["id"]
    response = nord_api.get(f"{TMF620}/productOfferingPrice", priceType="recurring",
                            **{"productOffering.id": product_id})
    assert b'"value": 123456789012.345678' in response.content
    assert exact(response)[0]["price"]["value"] == Decimal("123456789012.345678")


def test_a_price_change_is_a_new_version_with_its_own_dates(apply, reference, nord_api):
    start = clock.today() + dt.timedelta(days=30)
    reference["products"][0]["recurring"] = "159.00"
    apply(reference, effective_from=start)
    product_id = offering(nord_api, "MOB_POST_10GB")["id"]
    versions = nord_api.get(f"{TMF620}/productOfferingPrice", priceType="recurring",
                            **{"productOffering.id": product_id}).json()
    assert [(v["price"]["value"], v["lifecycleStatus"]) for v in versions] == [(149, "Launched"), (159, "Active")]
    assert versions[0]["validFor"]["endDateTime"] == versions[1]["validFor"]["startDateTime"]
    assert versions[1]["validFor"]["startDateTime"].startswith(start.isoformat())
    current = {ref["id"] for ref in offering(nord_api, "MOB_POST_10GB")["productOfferingPrice"]}
    assert versions[0]["id"] in current and versions[1]["id"] not in current
    future = nord_api.get(f"{TMF620}/productOfferingPrice", lifecycleStatus="Active")
    assert [p["id"] for p in future.json()] == [versions[1]["id"]]


def test_lifecycle_status_follows_dates_and_sellable(apply, reference, nord_api):
    reference["products"][1]["sellable"] = False  # MOB_POST_BASIC: kept for existing lines
    apply(reference, effective_from=DAY0)
    assert offering(nord_api, "MOB_POST_BASIC")["lifecycleStatus"] == "Retired"
    retired = nord_api.get(f"{TMF620}/productOffering", lifecycleStatus="Retired").json()
    assert [o["code"] for o in retired] == ["MOB_POST_BASIC"]
    both = nord_api.get(f"{TMF620}/productOffering", lifecycleStatus="Retired,Launched")
    assert both["X-Total-Count"] == "7"
    del reference["products"][6]  # SIM_REPLACEMENT leaves the catalogue today
    apply(reference)
    assert offering(nord_api, "SIM_REPLACEMENT")["lifecycleStatus"] == "Obsolete"
    assert [o["code"] for o in nord_api.get(f"{TMF620}/productOffering", lifecycleStatus="Obsolete").json()] \
        == ["SIM_REPLACEMENT"]
    bad = nord_api.get(f"{TMF620}/productOffering", lifecycleStatus="Live")
    assert bad.status_code == 400 and bad.json()["field"] == "lifecycleStatus"
    assert "Launched" in bad.json()["message"]


def test_filters_by_name_and_category(nord_api):
    named = nord_api.get(f"{TMF620}/productOffering", name="Fiber 500/500").json()
    assert [o["code"] for o in named] == ["FIBER_500"]
    addons = nord_api.get(f"{TMF620}/productOffering", **{"category.id": "addon"}).json()
    assert [o["code"] for o in addons] == ["ROAM_EU_5GB"]
    assert nord_api.get(f"{TMF620}/productOffering", name="fiber").json() == []


def test_paging_reports_the_counts(nord_api):
    response = nord_api.get(f"{TMF620}/productOffering", offset=2, limit=2)
    assert (response["X-Total-Count"], response["X-Result-Count"]) == ("7", "2")
    assert [o["code"] for o in response.json()] == ["MOB_POST_BASIC", "MOB_PRE"]
    prices = nord_api.get(f"{TMF620}/productOfferingPrice", limit=1)
    assert prices["X-Total-Count"] == "8" and prices["X-Result-Count"] == "1"
    assert nord_api.get(f"{TMF620}/productOffering", limit=0).json()["field"] == "limit"


def test_fields_selects_attributes(nord_api):
    items = nord_api.get(f"{TMF620}/productOffering", fields="name,lifecycleStatus", limit=1).json()
    assert set(items[0]) == {"id", "href", "@type", "name", "lifecycleStatus"}
    product_id = items[0]["id"]
    one = nord_api.get(f"{TMF620}/productOffering/{product_id}", fields="code").json()
    assert set(one) == {"id", "href", "@type", "code"}
    bad = nord_api.get(f"{TMF620}/productOffering", fields="name,colour")
    assert bad.status_code == 400 and bad.json()["field"] == "fields" and "'colour'" in bad.json()["message"]


def test_a_product_specification_carries_the_service_type_and_attributes(nord_api):
    product = m.Product.objects.get(code="FIBER_500")
    spec = nord_api.get(f"{TMF620}/productSpecification/{product.pk}").json()
    assert spec["@type"] == "ProductSpecification" and spec["productNumber"] == "FIBER_500"
    assert spec["lifecycleStatus"] == "Launched" and spec["isBundle"] is False
    chars = {c["name"]: c for c in spec["productSpecCharacteristic"]}
    assert list(chars) == ["serviceType", "download_mbit", "upload_mbit"]
    assert chars["serviceType"]["productSpecCharacteristicValue"] == [
        {"value": "fiber", "valueType": "string", "isDefault": True}]
    assert chars["download_mbit"]["valueType"] == "integer"
    assert chars["download_mbit"]["productSpecCharacteristicValue"][0]["value"] == 500
    listed = nord_api.get(f"{TMF620}/productSpecification", productNumber="SIM_REPLACEMENT").json()
    assert listed[0]["productSpecCharacteristic"] == []


def test_catalogues_and_categories(brands, nord_api, system, make_user, brand_b):
    (catalog,) = nord_api.get(f"{TMF620}/catalog").json()
    assert catalog["id"] == "NORD" and catalog["@type"] == "Catalog" and catalog["catalogType"] == "ProductCatalog"
    assert [c["id"] for c in catalog["category"]] == ["plan", "addon", "one_time", "device"]
    assert [(p["id"], p["role"]) for p in catalog["relatedParty"]] == [
        ("NORD", "owner"), ("bravo", "sharedWith"), ("charlie", "sharedWith")]
    bravo_api = client_for(system, make_user, "bo", {brand_b: VIEW})
    seen = bravo_api.get(f"{TMF620}/catalog")
    assert [c["id"] for c in seen.json()] == ["NORD", "bravo"] and seen["X-Total-Count"] == "2"
    parties = bravo_api.get(f"{TMF620}/catalog/NORD").json()["relatedParty"]
    assert [p["id"] for p in parties] == ["NORD", "bravo"]  # not the other brands NORD shares with
    categories = nord_api.get(f"{TMF620}/category").json()
    assert [c["id"] for c in categories] == ["plan", "addon", "one_time", "device"]
    assert nord_api.get(f"{TMF620}/category/addon").json()["name"] == "Add-ons"
    assert nord_api.get(f"{TMF620}/category/bundle").status_code == 404


def test_rights_brand_isolation_and_sharing(brands, brand_a, brand_b, system, make_user):
    product = m.Product.objects.get(code="MOB_POST_10GB")
    price = m.ProductPrice.objects.filter(charge__product=product).first()
    alpha_api = client_for(system, make_user, "al", {brand_a: VIEW})
    assert [o["code"] for o in alpha_api.get(f"{TMF620}/productOffering").json()] == ["ALPHA_PLAN"]
    for path in (f"productOffering/{product.pk}", f"productOfferingPrice/{price.pk}",
                 f"productSpecification/{product.pk}", "catalog/NORD"):
        response = alpha_api.get(f"{TMF620}/{path}")
        assert response.status_code == 404, path
        assert response.json()["@type"] == "Error"
    bravo_api = client_for(system, make_user, "bo", {brand_b: VIEW})  # NORD shares its catalogue with bravo
    assert bravo_api.get(f"{TMF620}/productOffering/{product.pk}").status_code == 200
    assert bravo_api.get(f"{TMF620}/productOffering")["X-Total-Count"] == "7"
    assert bravo_api.get(f"{TMF620}/productOfferingPrice/{price.pk}").status_code == 200
    no_area = client_for(system, make_user, "cs", {brands: ["customers.view"]})
    for path in ("productOffering", "productOfferingPrice", "productSpecification", "catalog", "category"):
        response = no_area.get(f"{TMF620}/{path}")
        assert response.status_code == 403, path
        assert response.json()["code"] == "forbidden"
    assert ApiClient().get(f"{TMF620}/productOffering").status_code == 401


def test_the_openapi_document_describes_money_as_a_number(nord_api):
    document = nord_api.get(f"{TMF620}/openapi.json").json()
    assert document["info"]["title"] == "Product Catalog Management (TMF620)"
    value = document["components"]["schemas"]["Money"]["properties"]["value"]
    assert {"type": "number"}.items() <= value["anyOf"][0].items()
