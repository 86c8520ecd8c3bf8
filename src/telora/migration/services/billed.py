"""What the old system billed already, written as charge marks so that Telora's first bill run does
not bill it again (docs/migration.md, "What the old system billed").

The rule:
- one-time charges (a plan's activation fee, one-time products and devices) of an imported product
  were billed by the old system (the import refuses products starting after it): each gets its
  one-time mark;
- recurring charges of a postpaid line were billed up to the account's `billed_through`
  (accounts.csv, the last day of a bill period of the account's cycle): each period of the
  account's cycle up to that day gets its recurring mark with the price (so that a product ended
  later is credited what the old system billed beyond its end). No `billed_through`: nothing
  recurring was billed, the first run bills as for a line sold in Telora;
- prepaid lines get no recurring marks: their fees are renewals taken from the balance.

The marks carry no bill run (`ChargeMark.run` is None): billed, but not by Telora. They are
written by the file's own transaction, so a refused file leaves none behind; the import is
idempotent by source ids (a line is written once) and the marks' unique constraint refuses twice.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.db import connection

from telora.billing.models import ChargeMark
from telora.billperiods import bill_period as _bill_period
from telora.catalog.models import CustomerGroup, Product, ProductCharge
from telora.catalog.selectors import effective_price
from telora.core.bulk import copy_objects, new_object
from telora.migration.services.base import Bad, Context, day


@functools.lru_cache(maxsize=4096)
def bill_period(anchor_day: int, on: dt.date) -> tuple[dt.date, dt.date]:
    """billperiods.bill_period, remembered: a base's lines share a few activation days and periods."""
    return _bill_period(anchor_day, on)


RECURRING_KINDS = ("plan", "addon")  # as billing's snapshot reads them
ONE_TIME_KINDS = ("one_time", "device")
# recurring marks reach back this far from billed_through: a first run bills the period of the import
# (and the next); a run for a period a year before the old system's last bill is not one to make
LOOKBACK = dt.timedelta(days=366)


def billed_through_of(ctx: Context, row: dict, anchor_day: int) -> dt.date | None:
    """accounts.csv `billed_through`: the last day of one of the account's bill periods, at most the
    end of the period after the import day's (the old system billed at most one period in advance)."""
    value = day(row, "billed_through")
    if value is None:
        return None
    start, end = bill_period(anchor_day, value)
    if value != end - dt.timedelta(days=1):
        raise Bad("billed_through", f"{value} is not the last day of a bill period of the account's cycle "
                                    f"(day {anchor_day}): its period runs {start} to {end - dt.timedelta(days=1)}")
    today = ctx.at.astimezone(ZoneInfo(ctx.brand.timezone)).date()
    latest = bill_period(anchor_day, bill_period(anchor_day, today)[1])[1] - dt.timedelta(days=1)
    if value > latest:
        raise Bad("billed_through", f"{value} is after {latest}, the end of the period after the import's: "
                                    "the old system cannot have billed that far ahead")
    return value


def _products(ctx: Context, product_ids: set) -> tuple[dict, dict]:
    """Products by id and the codes of their one-time charges, kept for the run (the catalogue
    does not change under an import; a query per slice would wait on the COPYs under way)."""
    products = ctx.cache.setdefault("mark_products", {})
    codes = ctx.cache.setdefault("mark_codes", defaultdict(list))
    missing = product_ids - products.keys()
    if missing:
        products.update(Product.objects.in_bulk(missing))
        for product_id, code in ProductCharge.objects.filter(product_id__in=missing, kind="one_time").values_list(
                "product_id", "code"):
            codes[product_id].append(code)
    return products, codes


def prefetch_accounts(ctx: Context, account_ids: set) -> None:
    """Read the accounts a file's lines refer to before its writes begin (one query, not one a slice)."""
    _accounts(ctx, {a for a in account_ids if a is not None})


def _accounts(ctx: Context, account_ids: set) -> dict[int, tuple[int, dt.date | None, int | None]]:
    """{account id: (cycle anchor day, billed_through, customer group id)}, those not read yet in one query."""
    known = ctx.cache.setdefault("mark_accounts", {})
    missing = account_ids - known.keys()
    if missing:
        known.update(_read_accounts(missing))
    return {pk: known[pk] for pk in account_ids}


def _read_accounts(account_ids: set) -> dict[int, tuple[int, dt.date | None, int | None]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.id, COALESCE(c.anchor_day, 1), m.billed_through, cu.customer_group_id "
            "FROM customers_billingaccount a JOIN customers_customer cu ON cu.id = a.customer_id "
            "LEFT JOIN catalog_billcycle c ON c.id = a.bill_cycle_id "
            "LEFT JOIN migration_sourcemapping m ON m.entity = 'account' AND m.object_id = a.id "
            "AND m.brand_id = a.brand_id WHERE a.id = ANY(%s)", [list(account_ids)])
        return {pk: (anchor, through, group) for pk, anchor, through, group in cursor.fetchall()}


def write_marks(ctx: Context, lines: list[tuple[int, int, bool, object]]) -> int:
    """The marks of the product instances just written: `lines` holds (subscription id, account id,
    prepaid, ProductInstance) each. Returns how many marks were written."""
    if not lines:
        return 0
    zone = ZoneInfo(ctx.brand.timezone)
    accounts = _accounts(ctx, {account for _s, account, _p, _i in lines})
    products, codes = _products(ctx, {i.product_id for *_rest, i in lines})
    groups = ctx.cache.setdefault("mark_groups", {})
    missing = {g for _a, _t, g in accounts.values() if g and g not in groups}
    if missing:
        groups.update(CustomerGroup.objects.in_bulk(missing))
    marks = []
    for sub_id, account_id, prepaid, inst in lines:
        product = products[inst.product_id]
        start = inst.start_at.astimezone(zone).date()
        end = inst.end_at.astimezone(zone).date() if inst.end_at else None
        anchor, through, group_id = accounts[account_id]
        one_time = (["price"] if product.kind in ONE_TIME_KINDS else []) + codes[product.pk]
        period = bill_period(anchor, start)
        for code in dict.fromkeys(one_time):
            marks.append(new_object(ChargeMark, brand_id=ctx.brand.pk, kind="one_time", key=f"{inst.pk}:{code}",
                                    period_start=period[0], period_end=period[1], subscription_id=sub_id))
        if prepaid or through is None or product.kind not in RECURRING_KINDS or start > through:
            continue
        group = groups.get(group_id)
        period = bill_period(anchor, max(start, through - LOOKBACK))
        while period[0] <= through:
            if end is None or end > period[0]:
                price = effective_price(product, "recurring", max(start, period[0]), customer_group=group)
                if price is not None:
                    marks.append(new_object(
                        ChargeMark, brand_id=ctx.brand.pk, kind="recurring", key=str(inst.pk), period_start=period[0],
                        period_end=period[1], subscription_id=sub_id, price=price,
                        covered_to=end if end is not None and end < period[1] else None))
            period = bill_period(anchor, period[1])
    copy_objects(ChargeMark, marks)
    return len(marks)

