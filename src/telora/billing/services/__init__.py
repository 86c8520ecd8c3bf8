"""Every write of billing: runs, adjustments; and the reads shared with views and the API."""

from telora.billing.services.adjustments import create_adjustment
from telora.billing.services.approval import confirm_run
from telora.billing.services.compare import compare_runs
from telora.billing.services.runs import approve, bill_accounts, delete_run, execute_run, start_run, summarize

__all__ = ["approve", "bill_accounts", "compare_runs", "confirm_run", "create_adjustment", "delete_run", "execute_run", "start_run",
           "summarize"]
