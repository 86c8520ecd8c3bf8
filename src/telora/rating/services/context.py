"""What rating reads from the catalogue and the customers: the compiled tariff (cached per brand
and day) and `SubscriberContext`s for the numbers of a batch."""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from zoneinfo import ZoneInfo

from telora.catalog.selectors import compile_tariff
from telora.customers.models import NumberAssignment, ProductInstance, Subscription
from telora.rating.engine import BundleInstance, NumberSpan, Rater, SubscriberContext
from telora.rating.models import BundleCounter, PrepaidBalance

TARIFF_SECONDS = 60  # a catalogue change reaches running workers within this
_raters: dict[tuple[int, dt.date], tuple[float, Rater]] = {}


def rater_for(brand, moment: dt.datetime) -> Rater:
    """A Rater on the brand's tariff in effect on the (local) day of `moment`, built once a minute."""
    day = moment.astimezone(ZoneInfo(brand.timezone)).date()
    key = (brand.pk, day)
    cached = _raters.get(key)
    if cached is not None and time.monotonic() - cached[0] < TARIFF_SECONDS:
        return cached[1]
    rater = Rater(compile_tariff(brand, day), home_country=brand.country)
    _raters[key] = (time.monotonic(), rater)
    return rater


def forget_tariffs() -> None:
    _raters.clear()


def load_contexts(brand, numbers: set[str], first: dt.datetime) -> tuple[list[SubscriberContext], set[int]]:
    """Contexts of the subscriptions that ever held one of `numbers`, and which are prepaid.

    One context per subscription (the engine's state is per subscription): its plan is the one in
    effect at `first`, the batch's earliest record, or else its latest; add-ons are those ever
    held, each bundle valid only while its product instance was.
    """
    spans: dict[int, list[NumberSpan]] = defaultdict(list)
    for sub_id, number, valid_from, valid_to in (
            NumberAssignment.objects.filter(brand=brand, number__in=list(numbers))
            .values_list("subscription_id", "number", "valid_from", "valid_to")):
        spans[sub_id].append(NumberSpan(number, valid_from, valid_to))
    if not spans:
        return [], set()
    subscriptions = {s["id"]: s for s in Subscription.objects.filter(pk__in=list(spans)).values(
        "id", "activated_at", "terminated_at", "created_at", "billing_account__bill_cycle__anchor_day")}
    instances = defaultdict(list)
    for row in (ProductInstance.objects.filter(subscription_id__in=list(spans), kind__in=("plan", "addon"))
                .values("id", "subscription_id", "kind", "start_at", "end_at", "product__code",
                        "product__service_type", "product__kind")):
        instances[row["subscription_id"]].append(row)
    counters = defaultdict(dict)
    for c in BundleCounter.objects.filter(subscription_id__in=list(spans)).values(
            "subscription_id", "bundle", "allowance", "period_start", "used"):
        counters[(c["subscription_id"], c["bundle"])][(c["allowance"], c["period_start"])] = c["used"]
    prepaid_ids = set()
    contexts = []
    rater = None
    for sub_id, sub_spans in spans.items():
        sub = subscriptions[sub_id]
        rows = instances.get(sub_id, [])
        plans = sorted((r for r in rows if r["kind"] == "plan"), key=lambda r: r["start_at"])
        if not plans:
            continue
        plan = next((p for p in plans if p["start_at"] <= first and (p["end_at"] is None or p["end_at"] > first)),
                    plans[-1])
        addons = [r for r in rows if r["kind"] == "addon"]
        if rater is None:
            rater = rater_for(brand, first)
        bundles = []
        for row, addon in [(plan, False), *((a, True) for a in addons)]:
            product = rater.tables.products.get(row["product__code"])
            for code in (product.bundles if product is not None else ()):
                key = f"{row['id']}:{code}"
                bundles.append(BundleInstance(key=key, code=code, addon=addon, valid_from=row["start_at"],
                                              valid_to=row["end_at"], used=counters.get((sub_id, key), {})))
        prepaid = (plan["product__service_type"] or "").endswith("prepaid")
        balance = None
        if prepaid:
            prepaid_ids.add(sub_id)
            balance = (PrepaidBalance.objects.filter(subscription_id=sub_id).values_list("balance", flat=True)
                       .first())
            balance = balance if balance is not None else 0
        contexts.append(SubscriberContext(
            subscription_id=sub_id, plan=plan["product__code"], numbers=tuple(sub_spans),
            addons=tuple(sorted({a["product__code"] for a in addons})), bundles=tuple(bundles), balance=balance,
            bill_cycle_anchor=sub["billing_account__bill_cycle__anchor_day"] or 1,
            active_from=sub["activated_at"] or sub["created_at"], terminated_at=sub["terminated_at"]))
    return contexts, prepaid_ids

