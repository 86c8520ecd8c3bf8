"""Shared by the billing tests (imported by name: `from billing_helpers import cph`; a test module
cannot import `conftest` safely, since another folder's conftest may hold that name first)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

CPH = ZoneInfo("Europe/Copenhagen")
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"  # the reference files, kept in the repo


def cph(text: str) -> dt.datetime:
    """A Copenhagen moment from "2026-03-11" or "2026-03-11T10:00"."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=CPH)


def pdf_after_job(client_get, url: str):
    """GET an invoice PDF that is made by a job: the first answer is 202 with the job (no worker runs
    in the tests), the job is run here as a worker would, and the answer at the URL the 202 gave
    (API: its Location; GUI: the waiting page's link) is returned."""
    from telora.core.services.jobs import execute

    first = client_get(url)
    assert first.status_code == 202, first.content[:300]
    if first["Content-Type"].startswith("application/json"):
        job_id, follow = first.json()["id"], first["Location"]
    else:
        job_id = first.context["job"].pk
        follow = f"{url}?job={job_id}"
    execute(job_id)
    return client_get(follow)
