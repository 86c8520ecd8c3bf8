"""Demo usage: the last MONTHS months and the current one, for every mobile line of the demo brands.

Appended to `telora.core.demo.DEMO_LOADERS` (after the customers' loader, which makes the lines).
Per brand and month the loader writes one canonical usage CSV (a few calls, texts and data
sessions per line, at home mostly, some abroad, and a few records that fail: an unknown number and
an unreadable line, plus one duplicate) and takes it in as `telora cdr import --now` does: the
intake service stages it, `rate_batch` rates each batch, failures reach the failed-records log.
Prepaid lines are topped up at the start of each month first. A month whose file was taken in
before is left as it is, so loading twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction

from telora.core import clock
from telora.core.demo import DemoReport
from telora.core.models import Brand
from telora.core.services.actors import Actor
from telora.customers.models import NumberAssignment
from telora.rating.models import FailedRecord, RatingBatch, UsageFile
from telora.rating.services import balances, import_usage_file, rate_batch

SOURCE = "demo-mediation"
MONTHS = 3  # whole months of history before the current one
BRANDS = ("nordlink", "bluewave")
HEADER = "record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge"
MB = 1 << 20
# Whom the lines call, per country: (prefix, random digits after it), as E.164 digits; the
# countries a roaming line visits; the monthly prepaid top-up in the brand's currency.
PEERS = {
    "DK": dict(mobile=("452", 7), landline=("4533", 6), premium=("4590", 6), abroad=("468", 7),
               roaming=("SE", "DE", "NO"), top_up=Decimal("100.00")),
    "GB": dict(mobile=("4477", 8), landline=("44207946", 4), premium=("44909", 7), abroad=("331", 8),
               roaming=("FR", "ES", "IE"), top_up=Decimal("10.00")),
}


def first_month(brand: Brand, today: dt.date | None = None) -> dt.date:
    """The first day of the first month of the demo's history (in the brand's timezone)."""
    today = today or clock.today(brand)
    year, month = divmod(today.year * 12 + today.month - 1 - MONTHS, 12)
    return dt.date(year, month + 1, 1)


def _months(brand: Brand) -> list[tuple[dt.date, dt.date]]:
    start, today = first_month(brand), clock.today(brand)
    months = []
    while start <= today:
        end = (start + dt.timedelta(days=32)).replace(day=1)
        months.append((start, end))
        start = end
    return months


def _lines(brand: Brand) -> list[tuple]:
    """(subscription id, number, prepaid, from, to) of every mobile line's number holding, to its
    termination or suspension."""
    rows = (NumberAssignment.objects.filter(brand=brand, subscription__service_type__startswith="mobile_")
            .values_list("subscription_id", "number", "subscription__service_type", "valid_from", "valid_to",
                         "subscription__terminated_at", "subscription__suspended_at", "subscription__status")
            .order_by("subscription_id", "valid_from"))
    lines = []
    for sub_id, number, kind, valid_from, valid_to, terminated_at, suspended_at, status in rows:
        prepaid = kind == "mobile_prepaid"
        if prepaid and status == "terminated":
            continue  # a closed prepaid balance cannot be topped up: such a line makes no demo usage
        barred = suspended_at if status == "suspended" else None  # a suspended line makes no usage since
        ends = [t for t in (valid_to, terminated_at, barred) if t is not None]
        lines.append((sub_id, number, prepaid, valid_from, min(ends) if ends else None))
    return lines


def _peer(rng: random.Random, spec: tuple[str, int]) -> str:
    prefix, digits = spec
    return f"{prefix}{rng.randrange(10 ** digits):0{digits}d}"


def _records(brand: Brand, lines: list[tuple], since: dt.datetime, until: dt.datetime, rng: random.Random,
             tag: str) -> list[str]:
    """The month's CSV lines (without the header), in time order within each line."""
    peers, zone = PEERS[brand.country], ZoneInfo(brand.timezone)
    out, n = [], 0
    for _sub, number, prepaid, held_from, held_to in lines:
        start, end = max(since, held_from), min(until, held_to) if held_to else until
        if end - start < dt.timedelta(hours=6):
            continue
        span = int((end - start).total_seconds())
        kinds = (["voice", "sms", "data"] if prepaid else
                 ["voice", "voice", "sms", "data", "data"] + rng.choice([[]] * 6 + [["roaming"], ["abroad"], ["premium"]]))
        for kind in kinds:
            n += 1
            at = (start + dt.timedelta(seconds=rng.randrange(span))).astimezone(zone).replace(microsecond=0)
            rid = f"{tag}-{n:06d}"
            if kind == "voice":
                callee = _peer(rng, peers["mobile" if rng.random() < 0.6 else "landline"])
                out.append(f"{rid},voice,{number},{callee},{at.isoformat()},{rng.randint(15, 900)},,,{brand.country},")
            elif kind == "sms":
                out.append(f"{rid},sms,{number},{_peer(rng, peers['mobile'])},{at.isoformat()},,,1,{brand.country},")
            elif kind == "data":
                volume = rng.randint(5, 40 if prepaid else 300) * MB + rng.randrange(MB)
                out.append(f"{rid},data,{number},,{at.isoformat()},,{volume},,{brand.country},")
            elif kind == "roaming":
                volume = rng.randint(20, 200) * MB
                out.append(f"{rid},data,{number},,{at.isoformat()},,{volume},,{rng.choice(peers['roaming'])},")
            else:  # a call abroad, or to a premium number at home
                callee = _peer(rng, peers["abroad" if kind == "abroad" else "premium"])
                out.append(f"{rid},voice,{number},{callee},{at.isoformat()},{rng.randint(30, 240)},,,{brand.country},")
    return out


def _failures(brand: Brand, lines: list[str], since: dt.datetime, tag: str, rng: random.Random) -> list[str]:
    """What a real feed brings too: calls of numbers no line ever held, an unreadable line, a duplicate."""
    peers = PEERS[brand.country]
    held = set(NumberAssignment.objects.filter(brand=brand).values_list("number", flat=True))
    at = since.astimezone(ZoneInfo(brand.timezone)) + dt.timedelta(days=2, hours=10)
    out = []
    for k in range(2):
        stranger = _peer(rng, peers["mobile"])
        while stranger in held:
            stranger = _peer(rng, peers["mobile"])
        out.append(f"{tag}-x{k},voice,{stranger},{_peer(rng, peers['landline'])},{at.isoformat()},60,,,"
                   f"{brand.country},")
    out.append(f"{tag}-bad,voice,{lines[0].split(',')[2] if lines else '0'},,yesterday,abc,,,{brand.country},")
    if lines:
        out.append(lines[0])  # sent twice by the switch: rated once
    return out


def _top_ups(brand: Brand, month: dt.date, since: dt.datetime, until: dt.datetime, *, actor: Actor) -> None:
    from telora.customers.models import Subscription

    amount = PEERS[brand.country]["top_up"]
    for sub in Subscription.objects.filter(brand=brand, service_type="mobile_prepaid").exclude(status="terminated"):
        at = max(since, sub.activated_at or sub.created_at) + dt.timedelta(minutes=5)
        if at < until and balances.is_prepaid(sub, at):
            balances.top_up(sub, amount, actor=actor, at=at, reference=f"Demo top-up {month:%Y-%m}")


def _month(brand: Brand, lines: list[tuple], month: dt.date, end: dt.date, *, actor: Actor) -> UsageFile | None:
    """Take in (not rate yet) the month's usage file unless it was taken in before."""
    name = f"{brand.code}-usage-{month:%Y-%m}.csv"
    if UsageFile.objects.filter(brand=brand, source=SOURCE, name=name).exists():
        return None
    zone, now = ZoneInfo(brand.timezone), clock.now()
    since = dt.datetime.combine(month, dt.time(), tzinfo=zone)
    until = min(dt.datetime.combine(end, dt.time(), tzinfo=zone), now - dt.timedelta(minutes=30))
    rng = random.Random(f"{brand.code}-{month:%Y-%m}")
    tag = f"{brand.code[:2].upper()}{month:%y%m}"
    rows = _records(brand, lines, since, until, rng, tag)
    rows += _failures(brand, rows, since, tag, rng)
    data = ("\n".join([HEADER, *rows]) + "\n").encode()
    with transaction.atomic():
        _top_ups(brand, month, since, until, actor=actor)
        return import_usage_file(brand, data, format="csv", source=SOURCE, actor=actor, name=name,
                                 at=min(dt.datetime.combine(end, dt.time(1), tzinfo=zone), now), defer=False)


def load_usage_demo(actor: Actor, report: DemoReport) -> None:
    """Per demo brand: the months of usage not taken in yet, rated here; then every batch of the
    brand still pending (a load stopped half-way) is rated too."""
    for code in BRANDS:
        brand = Brand.objects.filter(code=code).first()
        if brand is None or brand.country not in PEERS:
            continue
        lines = _lines(brand)
        months = _months(brand)
        report.step(f"{code}: usage {months[0][0]:%b %Y} to {months[-1][0]:%b %Y}", len(months) * 2)
        for month, end in months:
            _month(brand, lines, month, end, actor=actor)
            report.advance()
        pending = list(RatingBatch.objects.filter(brand=brand, status="pending").order_by("id")
                       .values_list("id", flat=True))
        for batch_id in pending:
            rate_batch(batch_id)
        report.advance(len(months))
        files = UsageFile.objects.filter(brand=brand, source=SOURCE)
        rated = sum(files.values_list("rated", flat=True))
        report.note(f"{code}: {rated} usage records rated over {files.count()} months, "
                    f"{FailedRecord.objects.filter(brand=brand).count()} in the failed log")


def register() -> None:
    from telora.core.demo import DEMO_LOADERS

    if load_usage_demo not in DEMO_LOADERS:
        DEMO_LOADERS.append(load_usage_demo)
