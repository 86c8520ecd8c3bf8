"""Which products may sit together on one subscription. Pure: plain data in, messages out.

The customers app calls `check_product_set` before it adds or removes a product; an empty
list means the set is allowed. Rules come from `telora.catalog.selectors.product_rules`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ONE_PLAN = "a subscription has exactly one plan"


@dataclass(frozen=True)
class ProductRules:
    """One product's kind and the rules that hold while it is on a subscription."""

    code: str
    kind: str
    requires_any: tuple[str, ...] = ()  # at least one of these must be present too
    excludes: tuple[str, ...] = ()  # none of these may be present
    at_most: tuple[tuple[int, tuple[str, ...]], ...] = ()  # (n, codes): at most n of them in all


def check_product_set(products_on_subscription: Iterable, rules: Mapping[str, ProductRules] | Iterable[ProductRules],
                      *, one_plan: bool = True) -> list[str]:
    """Messages for every rule the set breaks, in a stable order; [] when it is allowed.

    `products_on_subscription` holds product codes (or objects with a `code`), a code once per
    instance. `one_plan=False` checks a set that is not a whole subscription (an order line).
    """
    codes = [getattr(product, "code", product) for product in products_on_subscription]
    if not isinstance(rules, Mapping):
        rules = {rule.code: rule for rule in rules}
    present = Counter(codes)
    messages = [f"unknown product {code}" for code in sorted(set(codes) - set(rules))]
    if one_plan and sum(n for code, n in present.items() if code in rules and rules[code].kind == "plan") != 1:
        messages.append(ONE_PLAN)
    for code in dict.fromkeys(codes):
        rule = rules.get(code)
        if rule is None:
            continue
        if rule.requires_any and not any(present[other] for other in rule.requires_any):
            messages.append(f"{code} requires one of {', '.join(rule.requires_any)}")
        messages += [f"{code} excludes {other}" for other in rule.excludes if present[other]]
        for limit, group in rule.at_most:
            found = sum(present[other] for other in group)
            if found > limit:
                messages.append(f"{code} allows at most {limit} of {', '.join(group)} (found {found})")
    return messages
