"""The reconciliation of a run: the rated usage of its period, read straight from rated usage."""

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
        return list(ChargeMark.objects.filter(run=run, kind="usage").values_list("subscription_id", flat=True))
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
