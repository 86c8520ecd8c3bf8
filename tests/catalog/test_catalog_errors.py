"""A bad file is refused whole: every error named by its YAML path, nothing applied."""

import copy

import pytest

from telora.catalog import models as m
from telora.catalog import yamlio
from telora.catalog.services import CatalogError
from telora.core.models import AuditEvent, Brand


def rate(data, index=0):
    return data["rate_plans"][0]["rates"][index]


CASES = [
    ("unknown rate plan", lambda d: d["products"][3].update(rate_plan="X"),
     "products[3].rate_plan: unknown rate plan 'X'"),
    ("unknown zone in a rate", lambda d: rate(d, 2).update(zone="MARS"),
     "rate_plans[0].rates[2].zone: unknown zone 'MARS'"),
    ("bad decimal", lambda d: rate(d).update(price="1,50"),
     "rate_plans[0].rates[0].price: bad decimal '1,50'"),
    ("too many places", lambda d: rate(d).update(price="0.1234567"),
     "rate_plans[0].rates[0].price: bad decimal '0.1234567': at most 6 decimal places"),
    ("negative price", lambda d: d["products"][0].update(recurring="-1"),
     "products[0].recurring: must not be less than 0"),
    ("duplicate code", lambda d: d["zones"].append(copy.deepcopy(d["zones"][0])),
     "zones[8].code: duplicate code 'DK' (also at zones[0])"),
    ("duplicate product code", lambda d: d["products"][1].update(code="MOB_POST_10GB"),
     "products[1].code: duplicate code 'MOB_POST_10GB' (also at products[0])"),
    ("bad increments", lambda d: rate(d).update(increments=[60]),
     "rate_plans[0].rates[0].increments: bad increments"),
    ("zero next increment", lambda d: rate(d).update(increments=[60, 0]),
     "rate_plans[0].rates[0].increments[1]: must be at least 1"),
    ("unknown band", lambda d: rate(d).update(band="NIGHT"),
     "rate_plans[0].rates[0].band: unknown band 'NIGHT' (time bands WEEK has: OFFPEAK, PEAK)"),
    ("band without time bands", lambda d: d["rate_plans"][0].pop("time_bands"),
     "rate_plans[0].rates[0].band: unknown band 'PEAK': the rate plan has no time_bands"),
    ("prefix in two zones", lambda d: d["zones"][4]["prefixes"].append("45"),
     "zones[4].prefixes[9]: prefix '45' is already in zone DK"),
    ("country in two zones", lambda d: d["zones"][6]["countries"].append("DK"),
     "zones[6].countries[9]: country 'DK' is already in zone HOME"),
    ("bad prefix", lambda d: d["zones"][0]["prefixes"].append("+46"),
     "zones[0].prefixes[1]: bad prefix '+46'"),
    ("bad country", lambda d: d["zones"][5]["countries"].append("XX"),
     "zones[5].countries[1]: bad country 'XX'"),
    ("voice rate in a data zone", lambda d: rate(d, 4).update(zone="HOME"),
     "rate_plans[0].rates[4].zone: zone HOME has no prefixes: voice is rated by destination"),
    ("two rates for the same thing", lambda d: d["rate_plans"][1]["rates"].append(dict(d["rate_plans"][1]["rates"][0])),
     "rate_plans[1].rates[6]: a second voice rate for zone DK"),
    ("unknown field", lambda d: d["products"][0].update(pricee="1"),
     "products[0].pricee: unknown field"),
    ("unknown bundle", lambda d: d["products"][0]["bundles"].append("NOPE"),
     "products[0].bundles[3]: unknown bundle 'NOPE'"),
    ("unknown service", lambda d: rate(d).update(service="fax"),
     "rate_plans[0].rates[0].service: unknown service 'fax'"),
    ("missing price", lambda d: rate(d).pop("price"), "rate_plans[0].rates[0].price: required"),
    ("bad time", lambda d: d["time_bands"][0]["bands"][0].update({"to": "25:00"}),
     "time_bands[0].bands[0].to: bad time '25:00'"),
    ("band ends before it starts", lambda d: d["time_bands"][0]["bands"][0].update({"from": "19:00"}),
     "time_bands[0].bands[0].to: must be after from"),
    ("unknown day", lambda d: d["time_bands"][0]["bands"][0]["days"].append("fun"),
     "time_bands[0].bands[0].days[5]: unknown day 'fun'"),
    ("two default taxes", lambda d: d["taxes"].append({"code": "LOW", "name": "Low", "percent": "6", "default": True}),
     "taxes[1].default: only one tax can be the default (also VAT)"),
    ("anchor day 32", lambda d: d["bill_cycles"][0].update(anchor_day=32), "bill_cycles[0].anchor_day: must be at most 31"),
    ("rule names an unknown product", lambda d: d["products"][3]["rules"]["requires_any"].append("GHOST"),
     "products[3].rules.requires_any[2]: unknown product 'GHOST'"),
    ("recurring on a one-time product", lambda d: d["products"][6].update(recurring="1.00"),
     "products[6].recurring: a one_time product has no recurring price"),
    ("plan without service type", lambda d: d["products"][0].pop("service_type"),
     "products[0].service_type: required for a plan"),
    ("recurring discount on a product without one", lambda d: d["discounts"][1]["products"].append("MOB_PRE"),
     "discounts[1].products[1]: product MOB_PRE has no recurring price"),
    ("bad currency", lambda d: d["brand"].update(currency="XYZ"), "brand.currency: XYZ is not an ISO 4217"),
    ("unknown shared brand", lambda d: d["brand"].update(shared_with=["NOBODY"]),
     "brand.shared_with[0]: unknown brand 'NOBODY'"),
    ("no version", lambda d: d.pop("version"), "version: required: 1"),
    ("unknown section", lambda d: d.update(tarifs=[]), "tarifs: unknown section"),
    ("a code that is a number", lambda d: rate(d).update(zone=45), "rate_plans[0].rates[0].zone: expected a code"),
    ("at_most without of", lambda d: d["products"][3]["rules"].update(at_most={"count": 1}),
     "products[3].rules.at_most.of: required"),
    ("not a mapping", lambda d: d["zones"].__setitem__(0, "DK"), "zones[0]: expected a mapping"),
    ("bad form factor", lambda d: d.update(sim_types=[{"code": "E", "name": "E", "form_factor": "esim"}]),
     "sim_types[0].form_factor: unknown form factor 'esim'"),
    ("billing group with unknown cycle", lambda d: d.update(billing_groups=[{"code": "B", "name": "B",
                                                                             "bill_cycle": "M31"}]),
     "billing_groups[0].bill_cycle: unknown bill cycle 'M31'"),
    ("unknown channel", lambda d: d.update(price_lists=[{"code": "P", "name": "P", "channel": "WEB", "items": []}]),
     "price_lists[0].channel: unknown sales channel 'WEB'"),
    ("reserved charge code", lambda d: d["products"][0]["one_time"].append({"code": "recurring", "name": "x", "price": "1"}),
     "products[0].one_time[1].code: 'recurring' is reserved"),
]


@pytest.mark.parametrize("mutate, expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_errors_name_the_yaml_path(apply, reference, mutate, expected):
    mutate(reference)
    with pytest.raises(CatalogError) as err:
        apply(reference)
    assert any(line.startswith(expected) for line in err.value.lines()), err.value.lines()
    assert not Brand.objects.filter(code="NORD").exists()
    assert not m.Zone.objects.exists() and not AuditEvent.objects.exists()


def test_an_unquoted_decimal_is_refused_because_it_is_a_float(apply, reference_text):
    data = yamlio.load(reference_text.replace('price: "0.30"', "price: 0.30"))
    with pytest.raises(CatalogError) as err:
        apply(data)
    assert err.value.lines() == [
        'rate_plans[0].rates[0].price: write the amount as a string in quotes ("0.3"): '
        "an unquoted decimal is a YAML float and not exact"]


def test_whole_numbers_may_be_written_unquoted(apply, reference_text):
    data = yamlio.load(reference_text.replace('recurring: "149.00"', "recurring: 149"))
    apply(data)
    assert m.ProductPrice.objects.get(charge__code="recurring", charge__product__code="MOB_POST_10GB").amount == 149


def test_every_error_is_reported_at_once(apply, reference):
    reference["products"][3]["rate_plan"] = "X"
    reference["rate_plans"][0]["rates"][2]["zone"] = "MARS"
    reference["zones"][1]["prefixes"].append("45")
    with pytest.raises(CatalogError) as err:
        apply(reference)
    assert err.value.lines() == [
        "zones[1].prefixes[12]: prefix '45' is already in zone DK",
        "rate_plans[0].rates[2].zone: unknown zone 'MARS'",
        "products[3].rate_plan: unknown rate plan 'X'",
    ]


def test_nothing_changes_in_an_existing_catalogue_on_error(apply, reference, nord):
    events = AuditEvent.objects.count()
    reference["taxes"][0]["percent"] = "20"
    reference["products"][0]["rate_plan"] = "X"
    with pytest.raises(CatalogError):
        apply(reference)
    assert m.Tax.objects.get(code="VAT").percent == 25
    assert AuditEvent.objects.count() == events


def test_currency_cannot_change_once_there_are_prices(apply, reference, nord):
    reference["brand"]["currency"] = "EUR"
    with pytest.raises(CatalogError, match="brand.currency: cannot change DKK to EUR"):
        apply(reference)


@pytest.mark.parametrize("text, expected", [
    ("version: 1\nbrand: {code: A}\nbrand: {code: B}\n", "line 3, column 1: duplicate key 'brand'"),
    ("version: 1\nbrand: [\n", "line 3, column 1:"),
])
def test_yaml_syntax_errors_say_where(text, expected):
    with pytest.raises(yamlio.YamlError, match=expected.replace("[", r"\[")):
        yamlio.load(text)
