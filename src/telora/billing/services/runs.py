"""Bill runs: start, execute (account by account, each in its own transaction), delete a test run,
approve a test run into a production run, and the run's summary.

A test run writes draft invoices without numbers and nothing else: no charge marks, no ledger
entries, adjustments left pending. A production run writes, per account and in one transaction:
the charge marks (the unique constraint refuses a charge billed twice), the invoice with its
gap-free number, its lines, the receivable entry and the adjustments it billed. Prepaid lines'
recurring fees are not a bill run's: renewals take them from the balance on each period's first
day (services.renewals). A run stopped half-way is executed again: accounts with an invoice in
the run are skipped and the marks leave nothing to bill twice; a finished period run again bills
nothing.

Late usage: a production run also bills, by difference, the usage of the brand's
`late_usage_periods` billed periods before its own that was rated after they were billed, and
marks it with the next "<subscription>:late:<n>" key of that period (the unique constraint refuses a
second bill of the same difference; see services.snapshot.Loader.aggregate_late).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction

from telora.billing import engine
from telora.billing.models import (
    Adjustment,
    BillingSettings,
    BillRun,
    Invoice,
    InvoiceLine,
    ParkedAccount,
)
from telora.billing.services import document
from telora.billing.services.snapshot import Account, Loader, moment, period_of
from telora.catalog.models import BillCycle, BillingGroup
from telora.core import clock, rights
from telora.core.bulk import copy_objects as _copy
from telora.core.money import minor_unit
from telora.core.services.actors import Actor, PermissionDeniedError, ServiceError
from telora.core.services.audit import record_event
from telora.core.services.sequences import next_numbers
from telora.customers.models import BillingAccount
from telora.events.services import emit, emit_many

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
    period_window(period if isinstance(period, str) else period[0], at, brand)
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


def _month(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_window(period: str | dt.date, at: dt.datetime, brand) -> None:
    """A run's period must start within TELORA_BILLRUN_PAST_MONTHS before and
    TELORA_BILLRUN_FUTURE_MONTHS after the brand's current month: 0001-01 or 9999-12 is a typing
    slip (or a probe), refused naming `period` before any date of it is computed."""
    from django.conf import settings

    if isinstance(period, str):
        try:
            year, month = (int(part) for part in period.split("-"))
            first_day = dt.date(year, month, 1)
        except (ValueError, TypeError):
            raise ServiceError(f"period: {period!r} is not YYYY-MM", field="period") from None
    else:
        first_day = period.replace(day=1)
    today = clock.localtime(at, brand).date()
    earliest = _month(today, -int(getattr(settings, "TELORA_BILLRUN_PAST_MONTHS", 120)))
    latest = _month(today, int(getattr(settings, "TELORA_BILLRUN_FUTURE_MONTHS", 12)))
    if not earliest <= first_day <= latest:
        raise ServiceError(f"period: {first_day.year:04d}-{first_day.month:02d} is outside the periods a bill run "
                           f"may be for ({earliest:%Y-%m} to {latest:%Y-%m})", field="period")


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
    """A test run leaves no trace but its audit event; so does a production run held before it
    issued anything (services.approval), which needs billing.approve."""
    held = run.kind == "production" and run.status == "held" and not Invoice.objects.filter(run=run).exists()
    require(actor, run.brand, "billing.approve" if held else "billing.change")
    if run.kind != "test" and not held:
        raise ServiceError("run: production runs are never deleted", field="run")
    folder = f"invoices/{run.brand.code}/run-{run.pk}"  # services.pdfs.pdf_path
    with transaction.atomic():
        pdfs = list(Invoice.objects.filter(run=run).exclude(pdf="").values_list("pdf", flat=True))
        record_event(actor=actor, at=at, action="billrun_delete", obj=run, brand=run.brand,
                     old={"kind": run.kind, "period_start": run.period_start})
        run.delete()
        transaction.on_commit(lambda: _delete_files(pdfs, folder))


def _delete_files(names: list[str], folder: str) -> None:
    """A deleted run's stored PDFs, and their folder (once the deletion is committed)."""
    from django.core.files.storage import default_storage

    for name in names:
        default_storage.delete(name)
    _delete_folder(folder)


def _delete_folder(name: str) -> None:
    """Delete a folder of the storage with its files (a run's PDFs: see services.pdfs.pdf_path)."""
    from django.core.files.storage import default_storage

    try:
        folders, files = default_storage.listdir(name)
    except (FileNotFoundError, NotADirectoryError):
        return
    for file in files:
        default_storage.delete(f"{name}/{file}")
    for folder in folders:
        _delete_folder(f"{name}/{folder}")
    try:
        default_storage.delete(name)  # FileSystemStorage removes an empty folder too
    except OSError:
        logger.warning("folder %s of a deleted run could not be removed", name)


# ---- executing --------------------------------------------------------------------------------
@dataclass
class Prepared:
    """One account's bill, computed and not written yet."""

    account: Account
    snap: engine.AccountSnapshot
    draft: engine.Draft
    subs: dict
    invoice: Invoice | None = None
    late_keys: dict | None = None  # {(subscription, period start): the key of its next late usage mark}


def execute_run(run: BillRun, *, at: dt.datetime | None = None,
                progress: Callable[[int, int], None] | None = None) -> BillRun:
    """Bill every account of the run not billed in it yet, a batch of accounts in one transaction;
    a batch that fails is done again one account per transaction, and the failing account is parked.
    An error that escapes (the database gone, a bug outside one account) marks the run failed with
    it and is raised again; the run executed again resumes where it stopped (the marks and the
    invoices already in the run leave nothing to bill twice)."""
    try:
        return _execute(run, at=at, progress=progress)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        logger.exception("billrun %s failed", run.pk)
        BillRun.objects.filter(pk=run.pk).update(status="failed", finished_at=clock.now(),
                                                 summary={"error": error})
        raise


def _execute(run: BillRun, *, at: dt.datetime | None,
             progress: Callable[[int, int], None] | None) -> BillRun:
    from telora.billing.services import approval

    run = BillRun.objects.select_related("brand", "cycle").get(pk=run.pk)
    if run.status == "held":
        return run  # waits for finance: services.approval.confirm_run
    at = at or clock.now()
    if approval.needs_check(run) and not approval.check_against_approved(run, at=at, execute=execute_run)["identical"]:
        return BillRun.objects.select_related("brand", "cycle").get(pk=run.pk)  # held: nothing issued
    actor = Actor.system(f"billrun-{run.pk}")
    ParkedAccount.objects.filter(run=run).delete()
    BillRun.objects.filter(pk=run.pk).update(status="running", started_at=run.started_at or at, finished_at=None)
    loader = Loader(run.brand, run.cycle, (run.period_start, run.period_end))
    settings = settings_of(run.brand)
    done_ids = set(Invoice.objects.filter(run=run).values_list("account_id", flat=True))
    accounts = list(_accounts(run).values_list("id", flat=True))
    todo = [a for a in accounts if a not in done_ids]
    done = len(accounts) - len(todo)
    BillRun.objects.filter(pk=run.pk).update(accounts_total=len(accounts), accounts_done=done)
    if progress:
        progress(done, len(accounts))
    if todo:
        loader.aggregate_usage(todo)
    if accounts:  # the report of late usage beyond the lookback covers all the run's accounts
        loader.aggregate_late(accounts, todo, settings.late_usage_periods, settings.late_usage_report_periods)
    try:
        with _few_collections():
            done = _batches(run, todo, done, len(accounts), loader, settings, actor=actor, at=at, progress=progress)
    finally:
        loader.close()
    run.refresh_from_db()
    check = (run.summary or {}).get(approval.CHECK)
    run.summary = summarize(run, beyond=loader.late_beyond) | ({approval.CHECK: check} if check else {})
    run.status = "done"
    run.finished_at = clock.now()
    with transaction.atomic():
        run.save(update_fields=["summary", "status", "finished_at"])
        emit("billrun.finished", brand=run.brand, subject=run, at=run.finished_at, actor=actor, payload={
            "run_id": run.pk, "kind": run.kind, "period_start": run.period_start, "period_end": run.period_end,
            "invoices": run.summary.get("invoices"), "credit_notes": run.summary.get("credit_notes"),
            "total": run.summary.get("total"), "parked": len(run.summary.get("parked") or [])})
    return run


@contextlib.contextmanager
def _few_collections():
    """The batches make and drop many small objects without cycles: the cyclic garbage collector
    would walk the whole process (Django, the loader's caches) again and again for nothing, a
    quarter of the Python time. The objects from before are frozen out of its walks, and it runs
    less often; both as they were afterwards."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 20_000), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _batches(run: BillRun, todo: list[int], done: int, total: int, loader: Loader, settings: BillingSettings, *,
             actor: Actor, at: dt.datetime, progress: Callable[[int, int], None] | None) -> int:
    """Bill the accounts `todo` a batch at a time; returns how many are done."""
    for first in range(0, len(todo), BATCH):
        batch = todo[first:first + BATCH]
        rows = loader.accounts(batch)
        try:
            with transaction.atomic():
                _fast(run)
                loader.prefetch(batch)
                bill_accounts(run, rows, loader, settings, actor=actor, at=at)
        except Exception as exc:  # one by one, to park the accounts at fault
            logger.info("billrun %s: batch from account %s again one by one (%s)", run.pk, rows[0].number, exc)
            for account in rows:
                try:
                    with transaction.atomic():
                        _fast(run)
                        bill_accounts(run, [account], loader, settings, actor=actor, at=at)
                except Exception as exc:  # one bad account parks itself; the run goes on
                    logger.warning("billrun %s: account %s parked: %s", run.pk, account.number, exc)
                    ParkedAccount.objects.update_or_create(
                        run=run, account_id=account.pk, defaults={"error": str(exc)[:2000] or repr(exc), "at": at})
        done += len(batch)
        BillRun.objects.filter(pk=run.pk).update(accounts_done=done)
        if progress:
            progress(done, total)
    return done


def _fast(run: BillRun) -> None:
    """A batch's commit does not wait for its WAL flush: should the database itself crash in that
    instant, the batch's effects (marks, numbers, invoices, ledger) are lost together and the
    resumed run bills those accounts again with the same numbers. The run's last commit (its
    summary) flushes them all."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def prepare(run: BillRun, account: Account, loader: Loader) -> Prepared:
    snap, meta = loader.snapshot(account)
    return Prepared(account, snap, engine.generate(snap), meta["subs"], late_keys=meta.get("late_keys"))


def bill_accounts(run: BillRun, accounts: list[Account], loader: Loader, settings: BillingSettings, *,
                  actor: Actor, at: dt.datetime) -> list[Invoice]:
    """Bill the accounts inside the caller's transaction: a production run takes the accounts' locks
    (two runs of one account queue), marks every charge, numbers the invoices, writes the ledger."""
    production = run.kind == "production"
    if production:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(7205, id) FROM unnest(%s::int[]) AS id ORDER BY id",
                           [sorted(a.pk for a in accounts)])
    bills = [prepare(run, account, loader) for account in accounts]
    billed = [b for b in bills if not b.draft.is_empty]
    numbers = _numbers(run.brand, len(billed), at) if production and billed else [None] * len(billed)
    issue = run.issue_date or clock.localtime(at, run.brand).date()
    due = issue + dt.timedelta(days=settings.payment_terms_days)
    for bill, number in zip(billed, numbers, strict=True):
        account, draft = bill.account, bill.draft
        bill.invoice = Invoice(
            brand=run.brand, run=run, account_id=account.pk, number=number, status="final" if production else "draft",
            period_start=run.period_start, period_end=run.period_end, issue_date=issue, due_date=due,
            currency=account.currency, net=draft.net, tax=draft.tax, total=draft.total,
            credit_note=draft.credit_note, created_at=at,
            document=document.build(brand=run.brand, settings=settings, account=account, draft=draft, subs=bill.subs,
                                    places=minor_unit(account.currency), number=number, issue_date=issue,
                                    due_date=due))
    _copy(Invoice, [b.invoice for b in billed], with_ids=True)
    lines = []
    for bill in billed:
        position, invoice_id = 0, bill.invoice.pk
        for section in bill.draft.sections:
            for line in section.lines:
                position += 1
                lines.append((invoice_id, position, section.subscription_id, line.kind, line.description[:300],
                              line.period_start, line.period_end, line.quantity, line.unit_price, line.amount,
                              line.tax_code, line.service, line.zone))
    _copy_rows("billing_invoiceline", LINE_COLUMNS, lines)
    if production:
        _copy_rows("billing_chargemark", MARK_COLUMNS,
                   [m for b in bills for m in _marks(run, b.snap, b.draft, b.invoice, b.late_keys or {})])
        _copy_rows("billing_arledgerentry", AR_COLUMNS, [
            (run.brand_id, b.account.pk, b.draft.total, b.account.currency,
             "credit_note" if b.draft.credit_note else "invoice", b.invoice.pk, b.invoice.number, at)
            for b in billed])
        for bill in billed:
            if bill.snap.adjustments:
                Adjustment.objects.filter(pk__in=[a.id for a in bill.snap.adjustments]).update(invoice=bill.invoice)
        label, dumps = actor.label[:200], _JSON.encode
        _copy_rows("core_auditevent", AUDIT_COLUMNS, [
            (at, None, None, label, run.brand_id, "billing.invoice", str(b.invoice.pk), b.invoice.number,
             "invoice_issue", dumps({"number": [None, b.invoice.number], "total": [None, str(b.draft.total)],
                                     "run": [None, run.pk]}), "", "", None) for b in billed])
        for credit in (False, True):
            emit_many("invoice.credit_note_issued" if credit else "invoice.issued", brand=run.brand, at=at, actor=actor,
                      subject_type="billing.invoice", items=[(b.invoice.pk, _invoice_facts(run, b)) for b in billed
                                                             if bool(b.draft.credit_note) == credit])
    return [b.invoice for b in billed]


def _invoice_facts(run: BillRun, bill) -> dict:
    """What an invoice.issued / invoice.credit_note_issued event carries."""
    invoice = bill.invoice
    return {"invoice_id": invoice.pk, "number": invoice.number, "account_id": bill.account.pk,
            "account_number": bill.account.number, "customer_number": bill.account.customer.number,
            "run_id": run.pk, "total": invoice.total, "currency": invoice.currency,
            "issue_date": invoice.issue_date, "due_date": invoice.due_date}


def _numbers(brand, count: int, at: dt.datetime) -> list[str]:
    return next_numbers(brand, "invoice", count, at=at)


# the documents are stored as jsonb, which keeps no spacing: the compact form is shorter to send
_JSON = json.JSONEncoder(check_circular=False, separators=(",", ":"))
AUDIT_COLUMNS = ("at", "actor_user_id", "actor_api_key_id", "actor_label", "brand_id", "object_type", "object_id",
                 "object_repr", "action", "changes", "message", "request_id", "address")
MARK_COLUMNS = ("brand_id", "kind", "key", "period_start", "period_end", "subscription_id", "price", "covered_to",
                "invoice_id", "run_id", "count", "quantity", "amount", "detail")
LINE_COLUMNS = ("invoice_id", "position", "subscription_id", "kind", "description", "period_start", "period_end",
                "quantity", "unit_price", "amount", "tax_code", "service", "zone")
AR_COLUMNS = ("brand_id", "account_id", "amount", "currency", "cause", "invoice_id", "reference", "at")


def _marks(run: BillRun, snap: engine.AccountSnapshot, draft: engine.Draft, invoice: Invoice | None,
           late_keys: dict) -> list[tuple]:
    """The charge-mark rows (MARK_COLUMNS) of what the draft bills. A usage mark records what it
    billed (count, quantity, exact amount, and per service and zone) for the later late-usage check."""
    start, end = run.period_start, run.period_end
    brand, invoice_id, run_id = run.brand_id, getattr(invoice, "pk", None), run.pk
    marks = [(brand, m.kind, str(m.instance_id), m.period_start, m.period_end, m.subscription_id, m.price,
              m.covered_to, invoice_id, run_id, None, None, None, None) for m in draft.marks]
    for sub in snap.subscriptions:
        for charge in sub.one_time:
            marks.append((brand, "one_time", f"{charge.instance_id}:{charge.code}", start, end, sub.id, charge.amount,
                          None, invoice_id, run_id, None, None, None, None))
        if not sub.prepaid and sub.bill_usage:
            marks.append((brand, "usage", str(sub.id), start, end, sub.id, None, None, invoice_id, run_id,
                          *_usage_billed((u.service, u.zone, u.count, u.quantity, u.amount) for u in sub.usage)))
        late: dict = {}
        for u in sub.late:
            late.setdefault((u.period_start, u.period_end), []).append(
                (u.service, u.zone, u.count, u.quantity, u.rated - u.billed))
        for (q_start, q_end), rows in late.items():
            marks.append((brand, "usage", late_keys[(sub.id, q_start)], q_start, q_end, sub.id, None, None, invoice_id,
                          run_id, *_usage_billed(rows)))
    for adj in snap.adjustments:
        marks.append((brand, "adjustment", str(adj.id), start, end, adj.subscription_id, adj.amount, None, invoice_id,
                      run_id, None, None, None, None))
    return marks


def _usage_billed(rows) -> tuple:
    """(count, quantity, amount, detail as JSON) of usage rows (service, zone, count, quantity, amount)."""
    count, quantity, amount, detail = 0, 0, Decimal(0), []
    for service, zone, n, q, value in rows:
        count, quantity, amount = count + n, quantity + q, amount + value
        detail.append([service, zone, n, q, str(value)])
    return count, quantity, amount, json.dumps(detail)


def _copy_rows(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert rows with COPY; the table's constraints hold as for any insert."""
    if not rows:
        return
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


# ---- the summary ------------------------------------------------------------------------------
def summarize(run: BillRun, beyond: dict | None = None) -> dict:
    """Counts and totals per charge type and tax code, parked accounts, the reconciliation of the
    usage billed with the rated usage of the period (each service and zone rounded as billed), and
    late usage apart: billed, the differences found, and what lies beyond the lookback (`beyond`, from
    the run's loader; None: kept from the summary before)."""
    from django.db.models import Count, Sum

    from telora.billing.services.reconcile import late_usage, rated_usage

    places = minor_unit(run.brand.currency)

    def _s(value) -> str:
        return str(engine.round_minor(value if value is not None else Decimal(0), places))

    invoices = Invoice.objects.filter(run=run)
    totals = invoices.aggregate(n=Count("id"), net=Sum("net"), tax=Sum("tax"), total=Sum("total"))
    per_kind = {row["kind"]: {"lines": row["n"], "amount": _s(row["amount"])}
                for row in InvoiceLine.objects.filter(invoice__run=run).values("kind")
                .annotate(n=Count("id"), amount=Sum("amount")).order_by("kind")}
    taxes: dict[str, dict] = {}
    with connection.cursor() as cursor:  # the documents' tax tables summed in the database, not decoded here
        cursor.execute("SELECT t->>'code', MIN(t->>'rate'), SUM((t->>'net')::numeric), SUM((t->>'tax')::numeric) "
                       "FROM billing_invoice i CROSS JOIN LATERAL jsonb_array_elements(i.document->'taxes') t "
                       "WHERE i.run_id = %s GROUP BY 1 ORDER BY MIN(i.id)", [run.pk])
        for code, rate, net, tax in cursor.fetchall():
            taxes[code] = {"rate": rate, "net": net, "tax": tax}
    billed = InvoiceLine.objects.filter(invoice__run=run, kind="usage", period_start=run.period_start).aggregate(
        s=Sum("amount"))["s"] or Decimal(0)
    late = late_usage(run)
    if beyond is None:
        beyond = (run.summary or {}).get("late_usage", {}).get("beyond_lookback") or {}
    beyond = {"count": int(beyond.get("count", 0)), "amount": _s(Decimal(beyond.get("amount", 0))),
              "subscriptions": int(beyond.get("subscriptions", 0)), "periods": int(beyond.get("periods", 0))}
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
        "late_usage": {"lines": late["lines"], "billed": _s(late["billed"]), "found": _s(late["found"]),
                       "holds": late["billed"] == late["found"], "beyond_lookback": beyond},
    }
