"""Comparing two runs: per account, invoices new in `b`, removed from it, and changed (with the
lines that differ)."""

from __future__ import annotations

from telora.billing.models import BillRun, Invoice


def _lines(invoice: Invoice) -> list[tuple]:
    return [(line.subscription_id, line.kind, line.description, str(line.period_start or ""),
             str(line.period_end or ""), str(line.amount)) for line in invoice.lines.all()]


def compare_runs(a: BillRun, b: BillRun) -> dict:
    """{"new": [account numbers], "removed": [...], "changed": [{"account", "total_a", "total_b",
    "only_a": [lines], "only_b": [lines]}], "same": n}."""
    left = {i.account_id: i for i in Invoice.objects.filter(run=a).select_related("account").prefetch_related("lines")}
    right = {i.account_id: i for i in Invoice.objects.filter(run=b).select_related("account")
             .prefetch_related("lines")}
    result = {"new": [], "removed": [], "changed": [], "same": 0}
    for account_id in sorted(set(left) | set(right)):
        old, new = left.get(account_id), right.get(account_id)
        if old is None:
            result["new"].append(new.account.number)
        elif new is None:
            result["removed"].append(old.account.number)
        else:
            lines_a, lines_b = _lines(old), _lines(new)
            if lines_a == lines_b and old.total == new.total:
                result["same"] += 1
                continue
            result["changed"].append({
                "account": old.account.number, "total_a": str(old.total), "total_b": str(new.total),
                "only_a": [list(x) for x in lines_a if x not in lines_b],
                "only_b": [list(x) for x in lines_b if x not in lines_a]})
    return result
