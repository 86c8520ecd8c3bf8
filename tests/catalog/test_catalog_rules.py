"""Which products may sit together on a subscription: the pure check and the rules from the file."""

import pytest

from telora.catalog.rules import ONE_PLAN, ProductRules, check_product_set
from telora.catalog.selectors import product_rules

RULES = {r.code: r for r in [
    ProductRules("PLAN_A", "plan"),
    ProductRules("PLAN_B", "plan"),
    ProductRules("ROAM", "addon", requires_any=("PLAN_A", "PLAN_B")),
    ProductRules("DATA_S", "addon", at_most=((1, ("DATA_S", "DATA_L")),)),
    ProductRules("DATA_L", "addon", excludes=("ROAM",), at_most=((1, ("DATA_S", "DATA_L")),)),
    ProductRules("SIM", "one_time"),
]}


@pytest.mark.parametrize("products, messages", [
    (["PLAN_A"], []),
    (["PLAN_A", "ROAM", "DATA_S"], []),
    (["PLAN_A", "PLAN_B"], [ONE_PLAN]),
    (["ROAM"], [ONE_PLAN, "ROAM requires one of PLAN_A, PLAN_B"]),
    (["PLAN_A", "DATA_S", "DATA_S"], ["DATA_S allows at most 1 of DATA_S, DATA_L (found 2)"]),
    (["PLAN_A", "DATA_S", "DATA_L"], ["DATA_S allows at most 1 of DATA_S, DATA_L (found 2)",
                                      "DATA_L allows at most 1 of DATA_S, DATA_L (found 2)"]),
    (["PLAN_B", "ROAM", "DATA_L"], ["DATA_L excludes ROAM"]),
    (["PLAN_A", "GHOST"], ["unknown product GHOST"]),
    (["SIM"], [ONE_PLAN]),
])
def test_check_product_set(products, messages):
    assert check_product_set(products, RULES) == messages


def test_a_set_that_is_not_a_whole_subscription_needs_no_plan():
    assert check_product_set(["SIM"], RULES.values(), one_plan=False) == []


def test_rules_come_from_the_catalogue(nord):
    rules = product_rules(nord)
    assert rules["ROAM_EU_5GB"] == ProductRules("ROAM_EU_5GB", "addon", requires_any=("MOB_POST_10GB", "MOB_POST_BASIC"))
    assert check_product_set(["MOB_PRE", "ROAM_EU_5GB"], rules) == [
        "ROAM_EU_5GB requires one of MOB_POST_10GB, MOB_POST_BASIC"]
    assert check_product_set(["MOB_POST_BASIC", "ROAM_EU_5GB"], rules) == []
    assert check_product_set(["MOB_POST_BASIC", "MOB_PRE"], rules) == [ONE_PLAN]


def test_excludes_and_at_most_round_trip_through_the_file(apply, reference, nord):
    reference["products"][3]["rules"].update(excludes=["MOB_PRE"], at_most={"count": 1, "of": ["ROAM_EU_5GB"]})
    apply(reference)
    rule = product_rules(nord)["ROAM_EU_5GB"]
    assert rule.excludes == ("MOB_PRE",) and rule.at_most == ((1, ("ROAM_EU_5GB",)),)
    assert check_product_set(["MOB_POST_BASIC", "ROAM_EU_5GB", "ROAM_EU_5GB"], product_rules(nord)) == [
        "ROAM_EU_5GB allows at most 1 of ROAM_EU_5GB (found 2)"]
    assert apply(reference).changes == []
