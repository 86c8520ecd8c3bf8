"""What the rating screens share: rights on a brand, status colours, progress of a file, and
how amounts and usage read to people."""

from __future__ import annotations

from decimal import Decimal

from telora.core import rights

AREA = "rating"
POLL_SECONDS = 2

FILE_COLOURS = {"received": "secondary", "staged": "blue", "rated": "green", "failed": "red"}
BATCH_COLOURS = {"pending": "blue", "done": "green"}
FAILED_COLOURS = {"open": "red", "rerated": "green", "deleted": "secondary"}
JOB_COLOURS = {"todo": "secondary", "doing": "blue", "succeeded": "green", "failed": "red", "cancelled": "secondary",
               "aborted": "orange"}

MB = 1024 * 1024


def may(user, brand, action: str) -> bool:
    """Whether `user` holds rating.<action> in `brand` (a brand, a brand id or a brand-owned row),
    to offer buttons; the view and the service stay the judges."""
    if brand is None:
        return False
    brand_id = getattr(brand, "brand_id", None) or getattr(brand, "pk", brand)
    return rights.has_perm(user, brand_id, f"{AREA}.{action}")


def progress(usage_file) -> dict:
    """How far a file is: records accounted for (rated, failed, duplicate, ignored) of those read."""
    done = usage_file.rated + usage_file.failed + usage_file.duplicate + usage_file.ignored
    read = usage_file.read
    finished = usage_file.status in ("rated", "failed")
    if finished or not read:
        percent = 100 if finished else 0
    else:
        percent = min(100, done * 100 // read)
    return {"done": done, "read": read, "percent": percent, "finished": finished,
            "colour": FILE_COLOURS.get(usage_file.status, "secondary")}


def exact(amount) -> str:
    """A rated amount as it is kept (up to 6 decimals), with at least 2: 0.455833, 5.00, 1.19."""
    if amount is None:
        return "—"
    value = Decimal(amount).quantize(Decimal("0.000001"))
    text = f"{value:f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def usage_text(service: str, units) -> str:
    """Usage for people: m:ss for voice, MB for data, a count for messages and content."""
    if units is None:
        return "—"
    units = int(units)
    if service == "voice":
        return f"{units // 60}:{units % 60:02d}"
    if service == "data":
        return f"{Decimal(units) / MB:.2f} MB"
    return str(units)


def seconds(value: float) -> str:
    """A timing: 0.042 s, 12.3 s."""
    if not value:
        return "—"
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
