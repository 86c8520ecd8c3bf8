"""Rating engine and usage formats: records/s of the pure engine and of each parser (no database).

The tariff is the reference catalogue (docs/examples/catalog.yaml), compiled from its YAML by
the test helper (the catalogue's own compile path reads the database). Subscriptions and records
are generated: 100,000 postpaid subscriptions on MOB_POST_BASIC (no bundles) for the simple path,
on MOB_POST_10GB (bundles, a usage discount) for the bundle path, prepaid on MOB_PRE for the
balance path. Records come in start-time order, as a switch writes them.

Run alone: python bench/bench_rating_engine.py  (or through `make bench`, which ignores the DB here).
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import os
import random
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

from run import Timer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "rating"))

SUBSCRIPTIONS = 100_000
RECORDS = 1_000_000
DESTINATIONS = ["4533123456", "4520999999", "46812345678", "4590100100", "4930123456", "4540123456", "12125550100"]
COUNTRIES = ["DK", "DK", "DK", "", "SE", "DE", "US"]


def _subscriber(i: int) -> str:
    return f"4521{i:06d}"


def _csv_lines(count: int, seed: int = 1):
    """Canonical CSV lines: 70 % voice, 20 % SMS, 10 % data, one record every 2 s from 1 October."""
    rnd = random.Random(seed)
    start = dt.datetime(2026, 10, 1, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    yield "record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"
    for i in range(count):
        a_number = _subscriber(rnd.randrange(SUBSCRIPTIONS))
        moment = (start + dt.timedelta(seconds=2 * i)).isoformat()
        kind = i % 10
        if kind < 7:
            yield f"r{i},voice,{a_number},{DESTINATIONS[i % 7]},{moment},{rnd.randrange(0, 900)},,,DK,\n"
        elif kind < 9:
            yield f"r{i},sms,{a_number},+{DESTINATIONS[i % 3]},{moment},,,1,DK,\n"
        else:
            yield f"r{i},data,{a_number},,{moment},,{rnd.randrange(1, 10**8)},,{COUNTRIES[i % 7]},\n"


def _figure_rate(report, name, rater, records, contexts, size, baseline=None):
    from telora.rating.engine import SubscriberDirectory

    directory = SubscriberDirectory(contexts)
    rater.rate(records[:20_000], directory)  # warm the caches the way a long-running worker has them
    gc.collect()
    with Timer() as t:
        result = rater.rate(records, directory)
    speed = len(records) / t.seconds
    report.figure(name, speed, "records/s", size if baseline is None else f"{size}; {speed / baseline:.2f} x plain")
    return result, speed


def run(report) -> None:
    from rating_helpers import reference_tariff

    from telora.rating import formats
    from telora.rating.engine import RateOverride, Rater, SubscriberContext
    from telora.rating.formats import ber_write

    rater = Rater(reference_tariff(), home_country="DK")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "usage.csv"
        with open(path, "w") as out:
            out.writelines(_csv_lines(RECORDS))
        size = f"{RECORDS:,} lines, {path.stat().st_size / 1e6:,.0f} MB"
        gc.collect()
        with Timer() as t:
            parsed = sum(1 for _ in formats.parse_path("csv", path))  # streamed, as the pipeline reads it
        report.figure("parse canonical CSV", parsed / t.seconds, "lines/s", size)
        records = list(formats.parse_path("csv", path))
        assert len(records) == RECORDS and all(type(r).__name__ == "UsageRecord" for r in records)

    subs = f"{RECORDS:,} records, {SUBSCRIPTIONS:,} subscriptions"
    postpaid = [SubscriberContext(i, "MOB_POST_BASIC", numbers=(_subscriber(i),)) for i in range(SUBSCRIPTIONS)]
    result, plain = _figure_rate(report, "rate postpaid, no bundles (engine)", rater, records, postpaid, subs)
    assert len(result.rated) == RECORDS, result.failed[:3]
    del result
    # 1 % of the customers hold a price agreement (EU calls, data roaming): the other 99 % must not pay for it
    agreements = (RateOverride("customer:1", "voice", "EU", price=Decimal("0.50"), unit=60),
                  RateOverride("customer:1", "data", "EU_ROAM", percent=Decimal("20")))
    agreed = [SubscriberContext(i, "MOB_POST_BASIC", numbers=(_subscriber(i),),
                                overrides=agreements if i % 100 == 0 else ()) for i in range(SUBSCRIPTIONS)]
    result, _speed = _figure_rate(report, "rate postpaid, 1 % with price agreements", rater, records, agreed,
                                  subs, plain)
    assert sum(1 for r in result.rated if r.override) > 0
    del result
    bundles = [SubscriberContext(i, "MOB_POST_10GB", numbers=(_subscriber(i),)) for i in range(SUBSCRIPTIONS)]
    _figure_rate(report, "rate postpaid with bundles and discount", rater, records, bundles, subs)
    prepaid = [SubscriberContext(i, "MOB_PRE", numbers=(_subscriber(i),), balance=Decimal("100"))
               for i in range(SUBSCRIPTIONS)]
    _figure_rate(report, "rate prepaid (balance per record)", rater, records, prepaid, subs)

    from telora.rating.engine import SubscriberDirectory

    directory = SubscriberDirectory(postpaid)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "usage.csv"
        with open(path, "w") as out:
            out.writelines(_csv_lines(RECORDS, seed=2))
        gc.collect()
        with Timer() as t:
            result = rater.rate(formats.parse_path("csv", path), directory)
        report.figure("parse and rate canonical CSV (no persist)", RECORDS / t.seconds, "records/s", subs)
    del records, result

    count = 200_000
    pbx = io.StringIO()
    for i in range(count):
        answered = i % 4 != 0
        pbx.write(f'"","{_subscriber(i % SUBSCRIPTIONS)}","00{DESTINATIONS[i % 7]}","from-internal",'
                  f'"""A"" <1>","SIP/100-{i:08x}","SIP/trunk-{i:08x}","Dial","SIP/trunk/x,60",'
                  f'"2026-10-03 09:15:00","{"2026-10-03 09:15:05" if answered else ""}","2026-10-03 09:17:10",'
                  f'130,{125 if answered else 0},"{"ANSWERED" if answered else "NO ANSWER"}","DOCUMENTATION",'
                  f'"1759475700.{i}",""\n')
    _figure_parse(report, "parse Asterisk Master.csv", formats, "asterisk", pbx.getvalue(), count,
                  timezone="Europe/Copenhagen")
    switch = io.StringIO()
    for i in range(count):
        switch.write(f'"A","+{_subscriber(i % SUBSCRIPTIONS)}","{DESTINATIONS[i % 7]}","default",'
                     f'"2026-10-03 09:15:00","2026-10-03 09:15:05","2026-10-03 09:17:10","130","125",'
                     f'"NORMAL_CLEARING","a5c9f6c0-e752-11e3-{i:012x}","","","PCMA","PCMA"\n')
    _figure_parse(report, "parse FreeSWITCH cdr_csv", formats, "freeswitch", switch.getvalue(), count,
                  timezone="Europe/Copenhagen")

    opened = dt.datetime(2026, 10, 5, 9, 15, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    samples = [ber_write.pgw_record(_subscriber(i), opened, [(1000 * i, 5_000_000 + i), (10, 20)], charging_id=i,
                                    sequence=i) for i in range(50)]
    samples += [ber_write.moc_record(_subscriber(i), DESTINATIONS[i % 7], opened, 60 + i) for i in range(30)]
    samples += [ber_write.mo_sms_record(_subscriber(i), DESTINATIONS[i % 3], opened) for i in range(20)]
    ber_count = 100_000
    data = b"".join(samples[i % len(samples)] for i in range(ber_count))
    mix = f"{ber_count:,} records (50 % PGW-CDR, 30 % MOC, 20 % MO-SMS), {len(data) / 1e6:,.1f} MB"
    _figure_parse(report, "decode 3GPP BER (fast decoder)", formats, "ber", data, ber_count, binary=True, size=mix)
    small = b"".join(samples[i % len(samples)] for i in range(5_000))
    _figure_parse(report, "decode 3GPP BER (full pycrate decoder)", formats, "ber", small, 5_000, binary=True,
                  size="5,000 records, same mix", decoder="pycrate")


def _figure_parse(report, name, formats, fmt, content, count, *, binary=False, size=None, **options):
    stream = io.BytesIO(content) if binary else io.StringIO(content, newline="")
    gc.collect()
    with Timer() as t:
        parsed = sum(1 for _ in formats.parse(fmt, stream, **options))
    assert parsed == count, (parsed, count)
    report.figure(name, count / t.seconds, "records/s", size or f"{count:,} lines")


if __name__ == "__main__":
    from run import Report

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    print(f"Rating engine and formats on {os.cpu_count()} cores (no database)")
    run(Report())
