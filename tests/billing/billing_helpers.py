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
