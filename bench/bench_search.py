"""Customer search: 1,000,000 customers and 1,200,000 subscriptions (COPY-generated), global-search latency."""

from __future__ import annotations

import datetime as dt
import random
import statistics

from run import Timer

CUSTOMERS = 1_000_000
SUBSCRIPTIONS = 1_200_000
# code, country, share of the customers, phone and MSISDN ranges (E.164 digits: prefix + counter width)
BRANDS = [("sa", "NL", 0.5, ("316", 8), ("3165", 7)), ("sb", "GB", 0.3, ("447", 9), ("4477", 8)),
          ("sc", "NL", 0.2, ("316", 8), ("3164", 7))]
QUERIES_PER_KIND = 200
FIRST = ["Anna", "Bram", "Chloé", "Daan", "Emma", "Finn", "Grace", "Hugo", "Isla", "Jan", "Kim", "Lars", "Mia",
         "Noah", "Olivia", "Pieter", "Quinn", "Ruby", "Sem", "Tess", "Umar", "Vera", "Wim", "Yara", "Zoë", "José",
         "Fatima", "Mohammed", "Sophie", "Lucas", "Julia", "Thomas", "Sara", "David", "Eva", "Daniel", "Laura",
         "Oliver", "Amelia", "George", "Harry", "Jack", "Charlotte", "Emily", "Noor", "Sven", "Ingrid", "Ahmed",
         "Priya", "Wei", "Mei", "Hiroshi", "Elena", "Marco", "Giulia", "Pierre", "Camille", "Ana", "Luis", "Sofia"]
STEMS = ["bakker", "jansen", "visser", "smit", "meijer", "mulder", "boer", "dekker", "vries", "brouwer", "dijk",
         "bos", "vos", "peters", "hendriks", "leeuwen", "berg", "wit", "kok", "jacobs", "smith", "jones", "taylor",
         "brown", "williams", "wilson", "evans", "thomas", "roberts", "walker", "wright", "robinson", "thompson",
         "white", "hughes", "edwards", "green", "hall", "wood", "harris", "lewis", "martin", "jackson", "clarke",
         "clark", "turner", "hill", "scott", "cooper", "morris", "ward", "moore", "king", "watson", "baker",
         "harrison", "morgan", "patel", "young", "allen", "mitchell", "james", "anderson", "phillips", "lee",
         "bell", "parker", "davis", "müller", "schmidt", "garcía", "rossi", "nguyen", "kowalski", "novak", "ali"]
SURNAMES = sorted({f"{pre}{stem}{post}".strip().title() for stem in STEMS for pre in ("", "van ", "de ", "ter ")
                   for post in ("", "s", "man", "ink", "son", "ing")})
DOMAINS = ["example.com", "mail.example", "post.example", "inbox.example"]
BASE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _indexes(cur, table: str) -> list[tuple[str, str]]:
    """The table's plain indexes (not those backing a constraint): dropped for the load, built after."""
    cur.execute("""SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN (
                   SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)""", [table, table])
    return cur.fetchall()


def _copy(cur, table: str, columns: list[str], rows) -> int:
    count = 0
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


# Brands interleave as they do in life (customers of all brands are created over time): of every
# ten customers, BRAND_SLOTS says which brand each one joins.
BRAND_SLOTS = [b for b, spec in enumerate(BRANDS) for _ in range(round(spec[2] * 10))]
assert len(BRAND_SLOTS) == 10


def _brand_of(i: int) -> int:
    return BRAND_SLOTS[i % 10]


class Data:
    """Everything generated is a function of the row number; samples are kept for the queries."""

    def __init__(self, brand_ids: list[int], starts: dict[str, int]):
        self.brand_ids = brand_ids
        self.starts = starts
        per_block = [BRAND_SLOTS.count(b) for b in range(len(BRANDS))]
        slot_rank = [BRAND_SLOTS[:k].count(BRAND_SLOTS[k]) for k in range(10)]
        # the customer number within its brand: customers of that brand before it, plus one
        self.seq = [i // 10 * per_block[BRAND_SLOTS[i % 10]] + slot_rank[i % 10] + 1 for i in range(CUSTOMERS)]
        rng = random.Random(7)
        n_surnames = len(SURNAMES)
        self.first = [rng.randrange(len(FIRST)) for _ in range(CUSTOMERS)]
        self.last = [int(n_surnames * rng.random() ** 2) for _ in range(CUSTOMERS)]  # a few names are common
        self.samples: list[dict] = []

    def customer_brand(self, i: int) -> int:
        return _brand_of(i)

    def phone(self, i: int) -> str:
        prefix, width = BRANDS[_brand_of(i)][3]
        return f"{prefix}{20_000_000 + i:0{width}d}"

    def customers(self):
        from telora.customers.validation import normalise_text

        start = self.starts["customer"]
        for i in range(CUSTOMERS):
            b = _brand_of(i)
            number = f"C{self.seq[i]:07d}"
            first, last = FIRST[self.first[i]], SURNAMES[self.last[i]]
            business = i % 10 == 7
            name = f"{last} {('Trading', 'Holding', 'Services')[i % 3]} BV" if business else f"{first} {last}"
            email = f"{first}.{last}.{i}@{DOMAINS[i % 4]}".lower().replace(" ", "") if i % 10 else ""
            phone = self.phone(i) if i % 5 else ""
            at = BASE + dt.timedelta(seconds=i * 20)
            if i % 2000 == 11:
                self.samples.append({"i": i, "brand": b, "number": number, "first": first, "last": last,
                                     "email": email, "phone": phone})
            yield (start + i, self.brand_ids[b], number, "business" if business else "private", "active", "", None,
                   name, "" if business else first, "" if business else last, name if business else "", "", "",
                   None, "", "", None, "en", email, phone, "", normalise_text(name), at, at, None)

    def accounts(self):
        start, customer_start = self.starts["account"], self.starts["customer"]
        for i in range(CUSTOMERS):
            b = _brand_of(i)
            at = BASE + dt.timedelta(seconds=i * 20)
            yield (start + i, self.brand_ids[b], customer_start + i, f"C{self.seq[i]:07d}-1",
                   "account", "active", None, None, "email", "", "EUR", 0, "invoice", "", None, at, at, None)

    def owner(self, j: int) -> int:
        return j if j < CUSTOMERS else (j - CUSTOMERS) * 5 % CUSTOMERS

    def line(self, j: int) -> tuple[int, str, str, str, dt.datetime, dt.datetime | None]:
        """(brand index, service type, identifier, status, from, to) of subscription j.

        Every 20th line is a terminated one whose number the next line holds now: number history.
        """
        i = self.owner(j)
        b = _brand_of(i)
        if j % 10 == 9:
            return b, "fiber", f"FIB-{BRANDS[b][0].upper()}-{j:08d}", "active", BASE + dt.timedelta(days=30), None
        prefix, width = BRANDS[b][4]
        holder = j + 1 if j % 20 == 3 and _brand_of(self.owner(j + 1)) == b else j
        identifier = f"{prefix}{holder:0{width}d}"
        if holder != j:
            return b, "mobile_postpaid", identifier, "terminated", BASE - dt.timedelta(days=300), \
                BASE - dt.timedelta(days=100)
        status = "suspended" if j % 50 == 17 else "active"
        return b, "mobile_prepaid" if j % 4 == 0 else "mobile_postpaid", identifier, status, \
            BASE + dt.timedelta(seconds=j * 15), None

    def sims(self):
        start = self.starts["sim"]
        for j in range(SUBSCRIPTIONS):
            b, service, _ident, status, since, _to = self.line(j)
            if service == "fiber":
                continue
            iccid = f"89{BRANDS[b][1] == 'NL' and '31' or '44'}{b}{j:014d}"
            yield (start + j, self.brand_ids[b], iccid, f"20408{j:010d}", None, "usim-4g", "", "",
                   "retired" if status == "terminated" else "allocated", "", None, "", since, None, since, since)

    def subscriptions(self):
        start, customer_start, account_start = self.starts["subscription"], self.starts["customer"], \
            self.starts["account"]
        sim_start = self.starts["sim"]
        for j in range(SUBSCRIPTIONS):
            b, service, ident, status, since, until = self.line(j)
            i = self.owner(j)
            sim = None if service == "fiber" else sim_start + j
            if j % 997 == 5 and status == "active":
                sample = {"brand": b, "msisdn": ident if service != "fiber" else None, "circuit": ident
                          if service == "fiber" else None, "iccid": None}
                if sim is not None:
                    sample["iccid"] = f"89{BRANDS[b][1] == 'NL' and '31' or '44'}{b}{j:014d}"
                self.samples.append(sample)
            yield (start + j, self.brand_ids[b], customer_start + i, account_start + i, service, ident, None, sim,
                   status, "", None, None, None, None, since, since, since,
                   since if status == "suspended" else None, until)

    def assignments(self):
        start, sub_start = self.starts["assignment"], self.starts["subscription"]
        for j in range(SUBSCRIPTIONS):
            b, service, ident, _status, since, until = self.line(j)
            if service != "fiber":
                yield (start + j, self.brand_ids[b], sub_start + j, ident, since, until)


TABLES = [
    ("customers_customer", "customer", "customers", [
        "id", "brand_id", "number", "kind", "status", "status_reason", "parent_id", "name", "first_name", "last_name",
        "company_name", "id_type", "id_number", "birth_date", "registration_number", "vat_number",
        "customer_group_id", "language", "email", "phone", "notes", "search_text", "created_at", "updated_at",
        "closed_at"]),
    ("customers_billingaccount", "account", "accounts", [
        "id", "brand_id", "customer_id", "number", "name", "status", "bill_cycle_id", "billing_group_id",
        "invoice_delivery", "invoice_email", "currency", "credit_limit", "payment_method", "payment_method_ref",
        "billing_address_id", "created_at", "updated_at", "closed_at"]),
    ("inventory_simcard", "sim", "sims", [
        "id", "brand_id", "iccid", "imsi", "sealed_secrets", "sim_type", "partner", "batch", "status",
        "previous_status", "reserved_until", "reserved_for", "allocated_at", "import_batch_id", "created_at",
        "updated_at"]),
    ("customers_subscription", "subscription", "subscriptions", [
        "id", "brand_id", "customer_id", "billing_account_id", "service_type", "identifier", "phone_number_id",
        "sim_id", "status", "status_reason", "billing_address_id", "shipping_address_id", "installation_address_id",
        "commitment_end", "created_at", "updated_at", "activated_at", "suspended_at", "terminated_at"]),
    ("customers_numberassignment", "assignment", "assignments", [
        "id", "brand_id", "subscription_id", "number", "valid_from", "valid_to"]),
]


def _generate(report, brand_ids) -> Data:
    from django.db import connection

    with connection.cursor() as cur:
        starts = {}
        for table, key, _method, _columns in TABLES:
            cur.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
            starts[key] = cur.fetchone()[0]
    data = Data(brand_ids, starts)
    total_rows = 0
    with Timer() as everything:
        for table, _key, method, columns in TABLES:
            with Timer() as t, connection.cursor() as cur:
                cur.execute("SET maintenance_work_mem = '512MB'")
                # Constraints stay and are checked row by row (re-adding the number history's
                # exclusion constraint after the load builds its GiST index more slowly than this).
                plain = _indexes(cur, table)
                for name, _definition in plain:
                    cur.execute(f"DROP INDEX {name}")
                with Timer() as copied:
                    rows = _copy(cur.cursor, table, columns, getattr(data, method)())
                for _name, definition in plain:
                    cur.execute(definition)
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            total_rows += rows
            print(f"    {table}: {rows:,} rows, COPY {copied.seconds:.0f} s, indexes {t.seconds - copied.seconds:.0f} s",
                  flush=True)
        with connection.cursor() as cur:
            for table, *_ in TABLES:
                cur.execute(f"VACUUM ANALYZE {table}")
    report.figure("generated with COPY, indexed, analysed", everything.seconds, "s", f"{total_rows:,} rows")
    report.figure("  of which rows per second", total_rows / everything.seconds, "rows/s")
    return data


def _national(digits: str, country: str) -> str:
    """How a person types a number at home: 06 2000 0123, 07400 000123."""
    code = "31" if country == "NL" else "44"
    rest = "0" + digits[len(code):]
    return f"{rest[:2]} {rest[2:6]} {rest[6:]}" if country == "NL" else f"{rest[:5]} {rest[5:]}"


def _queries(data: Data, brands) -> dict[str, list[tuple]]:
    rng = random.Random(11)
    people = [s for s in data.samples if "number" in s]
    lines = [s for s in data.samples if "msisdn" in s]
    kinds: dict[str, list[tuple]] = {k: [] for k in ("number", "name fragment", "full name", "e-mail", "phone",
                                                     "MSISDN", "ICCID", "circuit id")}
    for _ in range(QUERIES_PER_KIND):
        p = rng.choice(people)
        brand = brands[p["brand"]]
        kinds["number"].append((brand, p["number"]))
        surname = p["last"].split()[-1]
        kinds["name fragment"].append((brand, surname[:max(4, len(surname) - 2)].lower()))
        kinds["full name"].append((brand, f"{p['first']} {p['last']}"))
        with_mail = rng.choice([q for q in people if q["email"]])
        kinds["e-mail"].append((brands[with_mail["brand"]], with_mail["email"]))
        with_phone = rng.choice([q for q in people if q["phone"]])
        kinds["phone"].append((brands[with_phone["brand"]], _national(with_phone["phone"],
                                                                      BRANDS[with_phone["brand"]][1])))
        mobile = rng.choice([s for s in lines if s["msisdn"]])
        kinds["MSISDN"].append((brands[mobile["brand"]], "+" + mobile["msisdn"]))
        kinds["ICCID"].append((brands[mobile["brand"]], mobile["iccid"]))
        fiber = rng.choice([s for s in lines if s["circuit"]])
        kinds["circuit id"].append((brands[fiber["brand"]], fiber["circuit"]))
    return kinds


def run(report) -> None:
    from telora.core import clock, rights
    from telora.core.services import Actor
    from telora.core.services.brands import create_brand
    from telora.core.services.users import create_role, create_user
    from telora.customers.selectors import search_customers, subscription_for_number

    system = Actor.system("bench")
    brands = [create_brand(actor=system, at=clock.now(), code=code, name=f"Search {code}", currency="EUR",
                           timezone="Europe/Amsterdam", country=country) for code, country, *_ in BRANDS]
    data = _generate(report, [b.pk for b in brands])
    role = create_role(actor=system, at=clock.now(), name="search viewer", permissions=["customers.view"])
    clerk = create_user(actor=system, at=clock.now(), username="search-clerk", password=None,
                        grants=[(b, role) for b in brands])
    size = f"{CUSTOMERS:,} customers, {SUBSCRIPTIONS:,} subscriptions"
    kinds = _queries(data, brands)
    for brand, query in [q for qs in kinds.values() for q in qs[:5]]:  # warm the caches a little
        search_customers(clerk, brand, query)
    everything, misses = [], 0
    for kind, queries in kinds.items():
        timings = []
        for brand, query in queries:
            rights.forget(clerk)  # each search is a new request: the rights map is read again
            with Timer() as t:
                hits = search_customers(clerk, brand, query)
            timings.append(t.seconds)
            misses += not hits
        everything += timings
        ms = sorted(x * 1000 for x in timings)
        q = statistics.quantiles(ms, n=100)
        print(f"    {kind:<14} p50 {q[49]:6.1f} ms  p95 {q[94]:6.1f} ms  p99 {q[98]:6.1f} ms", flush=True)
    report.latencies("global search, mixed queries", everything, size)
    report.figure("queries that found nobody", misses, "queries", f"of {len(everything)}")
    lookups = []
    for brand, number in kinds["MSISDN"]:
        with Timer() as t:
            found = subscription_for_number(brand, number, clock.now())
        assert found is not None
        lookups.append(t.seconds)
    report.latencies("subscription_for_number (rating lookup)", lookups, size)
