"""What the billing screens share: the area, status colours, rights for buttons, progress of a run."""

from __future__ import annotations

from telora.core import rights

AREA = "billing"
POLL_SECONDS = 2
RUN_COLOURS = {"queued": "secondary", "running": "blue", "done": "green", "failed": "red"}
INVOICE_COLOURS = {"draft": "orange", "final": "green"}


def may(user, brand, perm: str) -> bool:
    """Whether `user` holds billing.<perm> in `brand` (a brand or a brand-owned row), to offer buttons;
    the views and services stay the judges."""
    if brand is None:
        return False
    brand_id = getattr(brand, "brand_id", None) or getattr(brand, "pk", brand)
    return rights.has_perm(user, brand_id, f"{AREA}.{perm}")


def run_progress(run) -> dict:
    """How far a run is: accounts billed (or parked) of the run's accounts."""
    finished = run.status in ("done", "failed")
    total, done = run.accounts_total, run.accounts_done
    percent = 100 if finished else (min(100, done * 100 // total) if total else 0)
    return {"done": done, "total": total, "percent": percent, "finished": finished,
            "colour": RUN_COLOURS.get(run.status, "secondary")}
