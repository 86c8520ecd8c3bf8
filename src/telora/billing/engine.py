"""The invoice generator: one billing account's snapshot in, an invoice draft out. Pure.

Standard library and `telora.billperiods` only, so it is fast and testable on plain data.
All dates are the brand's business days; windows are half-open [start, end).

For the run of period P (and the next period N):
- a recurring product is billed for N in advance when it is on at N's start (prorated if it
  ends inside N), and for P when P was not billed for it yet (a product that started inside P:
  `price * days_left_in_P / days_in_P`);
- a product ending inside a period already billed is credited `price * unused_days / days`;
- a recurring discount (percent for `months` from the product's start) reduces the recurring
  line it covers, prorated the same way; its credit is given back with the product's credit;
- one-time charges and adjustments handed in are billed; usage of postpaid subscriptions is
  billed in arrears, one line per service and zone;
- each line is rounded half-up to the minor unit once; tax per tax code on the sum of its lines;
- prepaid subscriptions get no usage and no recurring lines, marks or credits: their recurring fees
  are taken from the balance on each period's first day by renewals (`renewal_fee` below,
  services.renewals), not by a bill run after the period;
- late usage (rated after an earlier period was billed) is billed by difference, one line per
  period, service and zone: `round(rated now) - round(billed before)`, so that all the lines of a
  period, service and zone always add up to its rated usage rounded once.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
HUNDRED = Decimal(100)


class EngineError(ValueError):
    pass


@dataclass(frozen=True)
class Billed:
    """A period [start, end) already billed for a recurring product, at `price` a period."""

    start: dt.date
    end: dt.date
    price: Decimal
    covered_to: dt.date | None = None  # the charge ended here (a known end inside the period); None: end


@dataclass(frozen=True)
class Discount:
    code: str
    percent: Decimal
    months: int | None = None  # None: for ever


@dataclass(frozen=True)
class Instance:
    id: int
    product: str
    name: str
    kind: str  # plan | addon
    price: Decimal | None  # the recurring price a period (None: not recurring)
    start: dt.date
    end: dt.date | None = None
    tax_code: str = ""
    discounts: tuple[Discount, ...] = ()
    billed: tuple[Billed, ...] = ()  # periods billed (in advance or prorated)
    credited: frozenset[dt.date] = frozenset()  # starts of billed periods already credited


@dataclass(frozen=True)
class OneTime:
    instance_id: int | None
    code: str
    description: str
    amount: Decimal
    tax_code: str
    on: dt.date


@dataclass(frozen=True)
class Adjustment:
    id: int
    subscription_id: int | None
    description: str
    amount: Decimal  # net: positive debit, negative credit
    tax_code: str


@dataclass(frozen=True)
class Usage:
    service: str
    zone: str
    count: int
    quantity: int
    unit: str
    amount: Decimal  # exact (6 decimals)


@dataclass(frozen=True)
class LateUsage:
    """Usage of an earlier billed period not billed yet: `rated` is the period's rated amount of the
    service and zone now, `billed` what its marks billed (both exact); count and quantity: the
    difference."""

    period_start: dt.date
    period_end: dt.date
    service: str
    zone: str
    count: int
    quantity: int
    unit: str
    rated: Decimal
    billed: Decimal


@dataclass(frozen=True)
class SubscriptionSnapshot:
    id: int
    identifier: str
    plan: str
    prepaid: bool
    tax_code: str  # for usage
    instances: tuple[Instance, ...] = ()
    one_time: tuple[OneTime, ...] = ()
    usage: tuple[Usage, ...] = ()
    bill_usage: bool = True  # False: the period's usage is billed already
    late: tuple[LateUsage, ...] = ()


@dataclass(frozen=True)
class AccountSnapshot:
    id: int
    currency: str
    minor_unit: int
    period: tuple[dt.date, dt.date]
    next_period: tuple[dt.date, dt.date]
    taxes: dict[str, Decimal]  # code -> percent
    subscriptions: tuple[SubscriptionSnapshot, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()
    default_tax: str = ""


@dataclass
class Line:
    kind: str  # recurring | proration | credit | discount | one_time | adjustment | usage
    description: str
    amount: Decimal
    tax_code: str
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None
    instance_id: int | None = None
    ref: str = ""  # what the line bills (for marks): "" | "adjustment:<id>" | "one_time:<code>"
    service: str = ""
    zone: str = ""


@dataclass
class Section:
    subscription_id: int | None
    identifier: str = ""
    plan: str = ""
    lines: list[Line] = field(default_factory=list)
    usage: list[dict] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


@dataclass(frozen=True)
class RecurringMark:
    """A recurring period billed (the charge-mark the pipeline writes)."""

    subscription_id: int
    instance_id: int
    kind: str  # recurring | credit
    period_start: dt.date
    period_end: dt.date
    price: Decimal
    covered_to: dt.date | None = None


@dataclass
class Draft:
    account_id: int
    currency: str
    period: tuple[dt.date, dt.date]
    sections: list[Section]
    taxes: list[dict]  # {"code", "rate", "net", "tax"}
    net: Decimal
    tax: Decimal
    total: Decimal
    marks: list[RecurringMark]

    @property
    def credit_note(self) -> bool:
        return self.total < 0

    @property
    def lines(self) -> list[Line]:
        return [line for section in self.sections for line in section.lines]

    @property
    def is_empty(self) -> bool:
        return not self.lines


_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(7)}


def round_minor(amount: Decimal, places: int) -> Decimal:
    quantum = _QUANTA.get(places)
    if quantum is None:
        quantum = Decimal(1).scaleb(-places)
    return amount.quantize(quantum, rounding=ROUND_HALF_UP)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _overlap(a: tuple[dt.date, dt.date | None], b: tuple[dt.date, dt.date | None]) -> int:
    start = max(a[0], b[0])
    ends = [e for e in (a[1], b[1]) if e is not None]
    end = min(ends) if ends else None
    if end is None:
        raise EngineError("an open window has no length")
    return max((end - start).days, 0)


def _window(instance: Instance) -> tuple[dt.date, dt.date | None]:
    return instance.start, instance.end


def _days(period: tuple[dt.date, dt.date]) -> int:
    return (period[1] - period[0]).days


def _prorated(price: Decimal, days: int, days_in: int) -> Decimal:
    return price * days / days_in


class _Builder:
    def __init__(self, snap: AccountSnapshot):
        self.snap = snap
        self.places = snap.minor_unit
        self.sections: dict[int | None, Section] = {}
        self.marks: list[RecurringMark] = []

    def section(self, sub: SubscriptionSnapshot | None) -> Section:
        key = sub.id if sub else None
        if key not in self.sections:
            self.sections[key] = Section(key, sub.identifier if sub else "", sub.plan if sub else "")
        return self.sections[key]

    def add(self, section: Section, line: Line) -> None:
        line.amount = round_minor(line.amount, self.places)
        if line.unit_price is not None:
            line.unit_price = round_minor(line.unit_price, self.places)
        section.lines.append(line)

    # ---- recurring -------------------------------------------------------------------------
    def charge_period(self, sub: SubscriptionSnapshot, inst: Instance, period: tuple[dt.date, dt.date]) -> None:
        days = _overlap(_window(inst), period)
        if days <= 0 or inst.price is None:
            return
        days_in = _days(period)
        start = max(inst.start, period[0])
        end = min(inst.end, period[1]) if inst.end else period[1]
        full = days == days_in
        amount = _prorated(inst.price, days, days_in)
        self.marks.append(RecurringMark(sub.id, inst.id, "recurring", period[0], period[1], inst.price,
                                        end if end < period[1] else None))
        section = self.section(sub)
        name = inst.name if full else f"{inst.name}, {days} of {days_in} days"
        self.add(section, Line("recurring" if full else "proration", name, amount, inst.tax_code or
                               self.snap.default_tax, start, end, Decimal(1) if full else Decimal(days),
                               inst.price if full else None, inst.id))
        for discount in inst.discounts:
            until = add_months(inst.start, discount.months) if discount.months is not None else None
            covered = _overlap((start, end), (inst.start, until))
            if covered:
                value = -_prorated(inst.price, covered, days_in) * discount.percent / HUNDRED
                self.add(section, Line("discount", f"{discount.code} {discount.percent.normalize():f}% "
                                       f"({inst.name})", value, inst.tax_code or self.snap.default_tax,
                                       start, start + dt.timedelta(days=covered), Decimal(covered), None, inst.id))

    def credit(self, sub: SubscriptionSnapshot, inst: Instance) -> None:
        if inst.end is None:
            return
        for billed in inst.billed:
            covered_to = billed.covered_to or billed.end
            if billed.start in inst.credited or inst.end >= covered_to:
                continue
            unused_from = max(inst.end, billed.start)
            unused = (covered_to - unused_from).days
            days_in = (billed.end - billed.start).days
            self.marks.append(RecurringMark(sub.id, inst.id, "credit", billed.start, billed.end, billed.price))
            amount = -_prorated(billed.price, unused, days_in)
            section = self.section(sub)
            tax_code = inst.tax_code or self.snap.default_tax
            self.add(section, Line("credit", f"{inst.name}, credit for {unused} of {days_in} days", amount, tax_code,
                                   unused_from, covered_to, Decimal(unused), None, inst.id))
            for discount in inst.discounts:
                until = add_months(inst.start, discount.months) if discount.months is not None else None
                covered = _overlap((unused_from, covered_to), (inst.start, until))
                if covered:
                    value = _prorated(billed.price, covered, days_in) * discount.percent / HUNDRED
                    self.add(section, Line("discount", f"{discount.code} {discount.percent.normalize():f}% "
                                           f"({inst.name}, credit)", value, tax_code, unused_from,
                                           unused_from + dt.timedelta(days=covered), Decimal(covered), None,
                                           inst.id))

    def recurring(self, sub: SubscriptionSnapshot) -> None:
        if sub.prepaid:
            return  # renewals take a prepaid line's fees from its balance
        period, nxt = self.snap.period, self.snap.next_period
        for inst in sub.instances:
            if inst.price is None:
                continue
            billed = {b.start for b in inst.billed}
            if period[0] not in billed:
                self.charge_period(sub, inst, period)
            if nxt[0] not in billed and inst.start < nxt[0] and (inst.end is None or inst.end > nxt[0]):
                self.charge_period(sub, inst, nxt)
            self.credit(sub, inst)

    # ---- the rest --------------------------------------------------------------------------
    def one_time(self, sub: SubscriptionSnapshot) -> None:
        for charge in sub.one_time:
            self.add(self.section(sub), Line("one_time", charge.description, charge.amount, charge.tax_code or
                                             self.snap.default_tax, charge.on, None, Decimal(1), charge.amount,
                                             charge.instance_id, ref=f"one_time:{charge.code}"))

    def usage(self, sub: SubscriptionSnapshot) -> None:
        if sub.prepaid or not sub.bill_usage or not sub.usage:
            return
        section = self.section(sub)
        period = self.snap.period
        for u in sorted(sub.usage, key=lambda u: (u.service, u.zone)):
            self.add(section, Line("usage", f"{u.service} {u.zone}".strip(), u.amount, sub.tax_code or
                                   self.snap.default_tax, period[0], period[1], Decimal(u.quantity), None,
                                   service=u.service, zone=u.zone))
            section.usage.append({"service": u.service, "zone": u.zone, "count": u.count, "quantity": u.quantity,
                                  "unit": u.unit, "amount": round_minor(u.amount, self.places)})

    def late_usage(self, sub: SubscriptionSnapshot) -> None:
        """Late usage is billed whatever the subscription is now: its period's usage was postpaid."""
        if not sub.late:
            return
        section = self.section(sub)
        for u in sorted(sub.late, key=lambda u: (u.period_start, u.service, u.zone)):
            amount = round_minor(u.rated, self.places) - round_minor(u.billed, self.places)
            self.add(section, Line("usage", late_description(u), amount, sub.tax_code or self.snap.default_tax,
                                   u.period_start, u.period_end, Decimal(u.quantity), None, service=u.service,
                                   zone=u.zone))
            section.usage.append({"service": u.service, "zone": u.zone, "count": u.count, "quantity": u.quantity,
                                  "unit": u.unit, "amount": amount, "period_start": u.period_start.isoformat(),
                                  "period_end": u.period_end.isoformat()})

    def adjustments(self) -> None:
        subs = {s.id: s for s in self.snap.subscriptions}
        for adj in self.snap.adjustments:
            sub = subs.get(adj.subscription_id)
            self.add(self.section(sub), Line("adjustment", adj.description, adj.amount, adj.tax_code or
                                             self.snap.default_tax, None, None, Decimal(1), adj.amount,
                                             ref=f"adjustment:{adj.id}"))


def late_description(u: LateUsage) -> str:
    return f"{u.service} {u.zone}".strip() + f", late usage of {u.period_start:%Y-%m-%d}–{u.period_end:%Y-%m-%d}"


def generate(snap: AccountSnapshot) -> Draft:
    """The invoice draft of one account for its period (see the module's rules)."""
    if snap.period[1] != snap.next_period[0]:
        raise EngineError("the next period must start where the period ends")
    builder = _Builder(snap)
    for sub in snap.subscriptions:
        builder.recurring(sub)
        builder.one_time(sub)
        builder.usage(sub)
        builder.late_usage(sub)
    builder.adjustments()
    order = [s.id for s in snap.subscriptions]
    sections = sorted(builder.sections.values(),
                      key=lambda s: (s.subscription_id is None, order.index(s.subscription_id)
                                     if s.subscription_id in order else 0))
    per_code: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for section in sections:
        for line in section.lines:
            per_code[line.tax_code] += line.amount
    taxes = []
    for code in sorted(per_code):
        if code and code not in snap.taxes:
            raise EngineError(f"tax code {code!r} has no rate")
        rate = snap.taxes.get(code, ZERO)
        taxes.append({"code": code, "rate": rate, "net": per_code[code],
                      "tax": round_minor(per_code[code] * rate / HUNDRED, snap.minor_unit)})
    net = sum((t["net"] for t in taxes), ZERO)
    tax = sum((t["tax"] for t in taxes), ZERO)
    return Draft(snap.id, snap.currency, snap.period, sections, taxes, net, tax, net + tax, builder.marks)


def renewal_fee(price: Decimal, start: dt.date, end: dt.date | None, period: tuple[dt.date, dt.date],
                places: int) -> tuple[dt.date, dt.date, Decimal] | None:
    """What a prepaid renewal of a product on [start, end) takes for `period`: the days it covers
    (first, end) and the fee, the full price for a whole period and `price * days / days_in_period`
    for a part (a line activated or ending inside it), rounded half-up once; None when the product is
    not on in the period."""
    days = _overlap((start, end), period)
    if days <= 0:
        return None
    first = max(start, period[0])
    last = min(end, period[1]) if end else period[1]
    amount = price if days == _days(period) else _prorated(price, days, _days(period))
    return first, last, round_minor(amount, places)
