"""The reconciliation of a run: the rated usage of its period, read straight from rated usage; and
its late usage (of earlier billed periods) apart, checked against the rated usage of those periods."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery

from telora.billing.models import BillRun, ChargeMark
from telora.billing.services.snapshot import moment
from telora.core.money import minor_unit
from telora.customers.models import ProductInstance, Subscription


def usage_subscriptions(run: BillRun) -> list[int]:
    """The subscriptions whose usage of the period the run bills: a production run, those it marked;
    a test run, the postpaid ones of its accounts not billed for the period yet."""
    if run.kind == "production":
        return list(ChargeMark.objects.filter(run=run, kind="usage", period_start=run.period_start)
                    .values_list("subscription_id", flat=True))
    until = moment(run.period_end, run.brand)
    # the plan the loader takes: the latest started before the period's end
    latest = (ProductInstance.objects.filter(subscription=OuterRef("pk"), kind="plan", start_at__lt=until)
              .order_by("-start_at", "-id").values("product__service_type")[:1])
    from telora.billing.services.runs import _accounts

    subs = (Subscription.objects.filter(billing_account__in=_accounts(run)).annotate(plan_type=Subquery(latest))
            .exclude(plan_type__endswith="prepaid"))
    done = set(ChargeMark.objects.filter(brand=run.brand, kind="usage", period_start=run.period_start)
               .values_list("key", flat=True))
    return [pk for pk in subs.values_list("id", flat=True) if str(pk) not in done]


def rated_usage(run: BillRun) -> tuple[Decimal, Decimal]:
    """(exact, rounded) rated usage of the run's subscriptions in its period; rounded is the sum of
    each subscription's service and zone rounded half-up, as the invoices bill them."""
    subs = usage_subscriptions(run)
    if not subs:
        return Decimal(0), Decimal(0)
    places = minor_unit(run.brand.currency)
    with transaction.atomic(), connection.cursor() as cursor:
        # the records read in the table's order (a bitmap scan), not the index's (one page per record),
        # and their groups hashed in memory, not spilled to disk
        cursor.execute("SET LOCAL enable_indexscan TO off")
        cursor.execute("SET LOCAL work_mem TO '64MB'")
        cursor.execute(
            "SELECT COALESCE(SUM(s), 0), COALESCE(SUM(ROUND(s, %s)), 0) FROM (SELECT SUM(charge) AS s "
            "FROM rating_ratedusage WHERE subscription_id = ANY(%s) AND start_time >= %s AND start_time < %s "
            "GROUP BY subscription_id, service, zone) AS g",
            [places, subs, moment(run.period_start, run.brand), moment(run.period_end, run.brand)])
        exact, rounded = cursor.fetchone()
    return exact, rounded


def late_usage(run: BillRun) -> dict:
    """{"lines", "billed", "found"}: the run's late usage lines and their sum, and the differences
    found again from rated usage: for each subscription and earlier period the run billed late, its
    rated usage now (each service and zone rounded as billed) less what final invoices of other runs
    billed for it. They agree when every period's lines add up to its rated usage."""
    from telora.billing.models import InvoiceLine

    rows = list(InvoiceLine.objects.filter(invoice__run=run, kind="usage").exclude(period_start=run.period_start)
                .values_list("subscription_id", "period_start", "period_end", "amount"))
    if not rows:
        return {"lines": 0, "billed": Decimal(0), "found": Decimal(0)}
    pairs = sorted({(sub, start, end) for sub, start, end, _ in rows})
    subs = [p[0] for p in pairs]
    places = minor_unit(run.brand.currency)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(ROUND(s, %s)), 0) FROM (SELECT SUM(u.charge) AS s FROM rating_ratedusage u "
            "JOIN unnest(%s::int[], %s::timestamptz[], %s::timestamptz[]) AS p(sub, since, until) "
            "ON u.subscription_id = p.sub AND u.start_time >= p.since AND u.start_time < p.until "
            "GROUP BY u.subscription_id, p.since, u.service, u.zone) AS g",
            [places, subs, [moment(p[1], run.brand) for p in pairs], [moment(p[2], run.brand) for p in pairs]])
        rated = cursor.fetchone()[0]
        cursor.execute(
            "SELECT COALESCE(SUM(l.amount), 0) FROM billing_invoiceline l JOIN billing_invoice i ON i.id = l.invoice_id "
            "JOIN unnest(%s::int[], %s::date[]) AS p(sub, start) ON l.subscription_id = p.sub "
            "AND l.period_start = p.start WHERE l.kind = 'usage' AND i.status = 'final' AND i.run_id <> %s",
            [subs, [p[1] for p in pairs], run.pk])
        before = cursor.fetchone()[0]
    return {"lines": len(rows), "billed": sum((r[3] for r in rows), Decimal(0)), "found": rated - before}
