"""Bill runs: start, execute (account by account, each in its own transaction), delete a test run,
approve a test run into a production run, and the run's summary.

A test run writes draft invoices without numbers and nothing else: no charge marks, no ledger
entries, no prepaid debits, adjustments left pending. A production run writes, per account and
in one transaction: the charge marks (the unique constraint refuses a charge billed twice), the
invoice with its gap-free number, its lines, the receivable entry, the adjustments it billed, and
the prepaid debits. A run stopped half-way is executed again: accounts with an invoice in the run
are skipped and the marks leave nothing to bill twice; a finished period run again bills nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from decimal import Decimal

from django.db import connection, transaction

from telora.billing import engine
from telora.billing.models import (
    Adjustment,
    ARLedgerEntry,
    BillingSettings,
    BillRun,
    ChargeMark,
    Invoice,
    InvoiceLine,
    ParkedAccount,
)
from telora.billing.services import document
from telora.billing.services.snapshot import Loader, moment, period_of
from telora.catalog.models import BillCycle, BillingGroup
from telora.core import clock, rights
from telora.core.money import minor_unit
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.core.services.audit import record_event
from telora.core.services.sequences import next_number
from telora.customers.models import BillingAccount

logger = logging.getLogger(__name__)
BATCH = 200


def require(actor: Actor, brand, perm: str) -> None:
    """People and API keys need `perm` in the brand; platform jobs (no principal) may always."""
    if actor.principal is None and actor.job:
        return
    if actor.principal is None or not rights.has_perm(actor.principal, brand, perm):
        raise PermissionDeniedError(f"You lack {perm} in {brand.code}.")


def settings_of(brand) -> BillingSettings:
    found = BillingSettings.objects.filter(brand=brand).first()
    return found or BillingSettings(brand=brand)


# ---- starting ---------------------------------------------------------------------------------
def start_run(brand, cycle, period: str | tuple[dt.date, dt.date], groups=(), kind: str = "test", *,
              actor: Actor, at: dt.datetime, approved_from: BillRun | None = None) -> BillRun:
    """Record a run of `cycle` (a row or code) for `period` ("YYYY-MM" or (start, end)) over the
    accounts of `groups` (codes; none: all). Test runs need billing.change, production billing.approve.
    A production run may start only after its period ended."""
    if kind not in ("test", "production"):
        raise ServiceError(f"kind: {kind!r} is not test or production", field="kind")
    require(actor, brand, "billing.approve" if kind == "production" else "billing.change")
    if not isinstance(cycle, BillCycle):
        found = BillCycle.objects.filter(brand_id__in=_owners(brand), code=cycle).first()
        if found is None:
            raise ServiceError(f"cycle: no bill cycle {cycle!r}", field="cycle")
        cycle = found
    start, end = period_of(cycle, period) if isinstance(period, str) else period
    groups = sorted(set(groups or ()))
    known = set(BillingGroup.objects.filter(brand_id__in=_owners(brand), code__in=groups).values_list("code",
                                                                                                    flat=True))
    if set(groups) - known:
        raise ServiceError(f"groups: no billing group {sorted(set(groups) - known)[0]!r}", field="groups")
    if kind == "production" and at < moment(end, brand):
        raise ServiceError(f"period: {start:%Y-%m-%d}–{end:%Y-%m-%d} has not ended yet", field="period")
    with transaction.atomic():
        run = BillRun.objects.create(brand=brand, kind=kind, cycle=cycle, period_start=start, period_end=end,
                                     groups=groups, created_at=at, created_by=actor.label[:200],
                                     issue_date=clock.localtime(at, brand).date(), approved_from=approved_from)
        run.accounts_total = _accounts(run).count()
        run.save(update_fields=["accounts_total"])
        record_event(actor=actor, at=at, action="billrun_start", obj=run, brand=brand,
                     new={"kind": kind, "cycle": cycle.code, "period_start": start, "groups": groups})
    return run


def _owners(brand) -> list[int]:
    from telora.catalog.selectors import catalogue_owners

    return catalogue_owners(brand)


def _accounts(run: BillRun):
    rows = BillingAccount.objects.filter(brand=run.brand, bill_cycle=run.cycle)
    if run.groups:
        rows = rows.filter(billing_group__code__in=run.groups)
    return rows.order_by("id")


def approve(test_run: BillRun, *, actor: Actor, at: dt.datetime) -> BillRun:
    """A production run with the test run's cycle, period and groups (billing.approve)."""
    if test_run.kind != "test" or test_run.status != "done":
        raise ServiceError("run: only a finished test run can be approved", field="run")
    return start_run(test_run.brand, test_run.cycle, (test_run.period_start, test_run.period_end),
                     test_run.groups, "production", actor=actor, at=at, approved_from=test_run)


def delete_run(run: BillRun, *, actor: Actor, at: dt.datetime) -> None:
    """A test run leaves no trace but its audit event."""
    require(actor, run.brand, "billing.change")
    if run.kind != "test":
        raise ServiceError("run: production runs are never deleted", field="run")
    with transaction.atomic():
        record_event(actor=actor, at=at, action="billrun_delete", obj=run, brand=run.brand,
                     old={"kind": run.kind, "period_start": run.period_start})
        run.delete()


# ---- executing --------------------------------------------------------------------------------
def execute_run(run: BillRun, *, at: dt.datetime | None = None,
                progress: Callable[[int, int], None] | None = None) -> BillRun:
    """Bill every account of the run not billed in it yet; a failing account is parked."""
    run = BillRun.objects.select_related("brand", "cycle").get(pk=run.pk)
    at = at or clock.now()
    actor = Actor.system(f"billrun-{run.pk}")
    ParkedAccount.objects.filter(run=run).delete()
    BillRun.objects.filter(pk=run.pk).update(status="running", started_at=run.started_at or at)
    loader = Loader(run.brand, run.cycle, (run.period_start, run.period_end))
    settings = settings_of(run.brand)
    done_ids = set(Invoice.objects.filter(run=run).values_list("account_id", flat=True))
    accounts = list(_accounts(run).values_list("id", flat=True))
    todo = [a for a in accounts if a not in done_ids]
    done = len(accounts) - len(todo)
    BillRun.objects.filter(pk=run.pk).update(accounts_total=len(accounts), accounts_done=done)
    if progress:
        progress(done, len(accounts))
    for first in range(0, len(todo), BATCH):
        batch = todo[first:first + BATCH]
        rows = BillingAccount.objects.filter(pk__in=batch).select_related(
            "customer__customer_group", "billing_address", "brand").order_by("id")
        loader.prefetch(batch)
        for account in rows:
            try:
                with transaction.atomic():
                    bill_account(run, account, loader, settings, actor=actor, at=at)
            except Exception as exc:  # one bad account parks itself; the run goes on
                logger.warning("billrun %s: account %s parked: %s", run.pk, account.number, exc)
                ParkedAccount.objects.update_or_create(run=run, account=account,
                                                       defaults={"error": str(exc)[:2000] or repr(exc), "at": at})
            done += 1
        BillRun.objects.filter(pk=run.pk).update(accounts_done=done)
        if progress:
            progress(done, len(accounts))
    run.refresh_from_db()
    run.summary = summarize(run)
    run.status = "done"
    run.finished_at = clock.now()
    run.save(update_fields=["summary", "status", "finished_at"])
    return run


def bill_account(run: BillRun, account: BillingAccount, loader: Loader, settings: BillingSettings, *,
                 actor: Actor, at: dt.datetime) -> Invoice | None:
    """One account of a run, inside the caller's transaction."""
    production = run.kind == "production"
    if production:
        with connection.cursor() as cursor:  # two runs of the same account queue here
            cursor.execute("SELECT pg_advisory_xact_lock(%s::int, %s::int)", [7205, account.pk])
    snap, meta = loader.snapshot(account)
    draft = engine.generate(snap)
    subs = meta["subs"]
    places = minor_unit(account.currency)
    invoice = None
    if not draft.is_empty:
        issue = run.issue_date or clock.localtime(at, run.brand).date()
        due = issue + dt.timedelta(days=settings.payment_terms_days)
        number = next_number(run.brand, "invoice", at=at) if production else None
        invoice = Invoice.objects.create(
            brand=run.brand, run=run, account=account, number=number, status="final" if production else "draft",
            period_start=run.period_start, period_end=run.period_end, issue_date=issue, due_date=due,
            currency=account.currency, net=draft.net, tax=draft.tax, total=draft.total,
            credit_note=draft.credit_note, created_at=at,
            document=document.build(brand=run.brand, settings=settings, account=account, draft=draft, subs=subs,
                                    places=places, number=number, issue_date=issue, due_date=due))
        lines, position = [], 0
        for section in draft.sections:
            for line in section.lines:
                position += 1
                lines.append(InvoiceLine(
                    invoice=invoice, position=position, subscription_id=section.subscription_id, kind=line.kind,
                    description=line.description[:300], period_start=line.period_start,
                    period_end=line.period_end, quantity=line.quantity, unit_price=line.unit_price,
                    amount=line.amount, tax_code=line.tax_code, service=line.service, zone=line.zone))
        InvoiceLine.objects.bulk_create(lines)
    if not production:
        return invoice
    _mark(run, snap, draft, invoice)
    if invoice is not None:
        ARLedgerEntry.objects.create(brand=run.brand, account=account, amount=draft.total, currency=account.currency,
                                     cause="credit_note" if draft.credit_note else "invoice", invoice=invoice,
                                     reference=invoice.number, at=at)
        Adjustment.objects.filter(pk__in=[a.id for a in snap.adjustments]).update(invoice=invoice)
        record_event(actor=actor, at=at, action="invoice_issue", obj=invoice, brand=run.brand,
                     new={"number": invoice.number, "total": draft.total, "run": run.pk})
    _prepaid(run, draft, subs, actor=actor, at=at)
    return invoice


def _mark(run: BillRun, snap: engine.AccountSnapshot, draft: engine.Draft, invoice: Invoice | None) -> None:
    period = (run.period_start, run.period_end)
    marks = [ChargeMark(brand=run.brand, kind=m.kind, key=str(m.instance_id), period_start=m.period_start,
                        period_end=m.period_end, subscription_id=m.subscription_id, price=m.price,
                        covered_to=m.covered_to, invoice=invoice, run=run) for m in draft.marks]
    for sub in snap.subscriptions:
        for charge in sub.one_time:
            marks.append(ChargeMark(brand=run.brand, kind="one_time", key=f"{charge.instance_id}:{charge.code}",
                                    period_start=period[0], period_end=period[1], subscription_id=sub.id,
                                    price=charge.amount, invoice=invoice, run=run))
        if not sub.prepaid and sub.bill_usage:
            marks.append(ChargeMark(brand=run.brand, kind="usage", key=str(sub.id), period_start=period[0],
                                    period_end=period[1], subscription_id=sub.id, invoice=invoice, run=run))
    for adj in snap.adjustments:
        marks.append(ChargeMark(brand=run.brand, kind="adjustment", key=str(adj.id), period_start=period[0],
                                period_end=period[1], subscription_id=adj.subscription_id, price=adj.amount,
                                invoice=invoice, run=run))
    ChargeMark.objects.bulk_create(marks)


def _prepaid(run: BillRun, draft: engine.Draft, subs: dict, *, actor: Actor, at: dt.datetime) -> None:
    from telora.rating.services import balances

    for debit in draft.prepaid:
        if not debit.amount or subs[debit.subscription_id].status == "terminated":
            continue  # a terminated line's balance is closed: nothing to take or give back
        balances.adjust(subs[debit.subscription_id], -debit.amount, actor=actor, at=at,
                        reference=f"{debit.description} {debit.period_start}–{debit.period_end} (bill run {run.pk})")


# ---- the summary ------------------------------------------------------------------------------
def summarize(run: BillRun) -> dict:
    """Counts and totals per charge type and tax code, parked accounts, and the reconciliation of
    the usage billed with the rated usage of the period (each service and zone rounded as billed)."""
    from django.db.models import Count, Sum

    from telora.billing.services.reconcile import rated_usage

    places = minor_unit(run.brand.currency)

    def _s(value) -> str:
        return str(engine.round_minor(value if value is not None else Decimal(0), places))

    invoices = Invoice.objects.filter(run=run)
    totals = invoices.aggregate(n=Count("id"), net=Sum("net"), tax=Sum("tax"), total=Sum("total"))
    per_kind = {row["kind"]: {"lines": row["n"], "amount": _s(row["amount"])}
                for row in InvoiceLine.objects.filter(invoice__run=run).values("kind")
                .annotate(n=Count("id"), amount=Sum("amount")).order_by("kind")}
    taxes: dict[str, dict] = {}
    for doc in invoices.values_list("document", flat=True):
        for tax in doc.get("taxes", []):
            row = taxes.setdefault(tax["code"], {"rate": tax["rate"], "net": Decimal(0), "tax": Decimal(0)})
            row["net"] += Decimal(tax["net"])
            row["tax"] += Decimal(tax["tax"])
    billed = InvoiceLine.objects.filter(invoice__run=run, kind="usage").aggregate(s=Sum("amount"))["s"] or Decimal(0)
    rated_exact, rated_rounded = rated_usage(run)
    return {
        "accounts": run.accounts_total,
        "invoices": totals["n"],
        "credit_notes": invoices.filter(credit_note=True).count(),
        "net": _s(totals["net"]), "tax": _s(totals["tax"]), "total": _s(totals["total"]),
        "per_kind": per_kind,
        "taxes": {code: {"rate": v["rate"], "net": _s(v["net"]), "tax": _s(v["tax"])} for code, v in taxes.items()},
        "parked": [{"account": p.account.number, "error": p.error}
                   for p in ParkedAccount.objects.filter(run=run).select_related("account").order_by("id")],
        "reconciliation": {"usage_billed": _s(billed), "usage_rated": str(rated_exact),
                           "usage_rated_rounded": _s(rated_rounded), "holds": billed == rated_rounded},
    }
