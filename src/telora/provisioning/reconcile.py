"""Reconciliation: Telora's view of a brand's lines against the network's, read-only.

Telora's side: the brand's active and suspended mobile lines (MSISDN, IMSI, ICCID), barred when
suspended or when the last completed bar/unbar request barred them, and their services when a completed
create or change_services request said which. The network's side: the target's subscriber list
(`Adapter.subscribers`, paged; netsim `GET /v1/subscribers?after=&limit=`) or an operator's export
CSV (`msisdn,imsi,iccid,barred,services`; services separated by `;` or `|`).

The result lists differences (missing at the network, unknown at Telora, state, SIM and services
mismatches); a line with a request on its way is marked `pending` (the difference may be that request
in flight). Nothing is changed: reconciliation proposes, a person decides. Telora's lines are kept in
memory (one small tuple each); the network's are streamed page by page.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field

from telora.provisioning.adapters import get_adapter
from telora.provisioning.models import NetworkTarget, ProvisioningRequest

KINDS = ("missing_at_network", "unknown_at_telora", "state_mismatch", "sim_mismatch", "services_mismatch")
LIVE = ("active", "suspended")
OPEN = ("queued", "sent", "acknowledged")
PAGE = 500
MAX_EXPORT_BYTES = 200 * 1024 * 1024
TRUE = {"1", "true", "yes", "y", "barred", "t"}
FALSE = {"0", "false", "no", "n", "", "active", "f"}


class ReconcileError(Exception):
    """A reconciliation that could not run (unreadable export, target without a subscriber list, …)."""


@dataclass(frozen=True)
class Line:
    msisdn: str
    imsi: str = ""
    iccid: str = ""
    barred: bool = False
    services: tuple[str, ...] | None = None  # None: not known
    subscription: int | None = None


@dataclass
class Difference:
    kind: str
    msisdn: str
    detail: str
    telora: dict | None = None
    network: dict | None = None
    pending: bool = False
    subscription: int | None = None


@dataclass
class Report:
    telora_lines: int = 0
    network_lines: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(KINDS, 0)
        for difference in self.differences:
            counts[difference.kind] += 1
        return counts

    def as_dict(self, limit: int = 500) -> dict:
        return {"telora_lines": self.telora_lines, "network_lines": self.network_lines, "counts": self.counts,
                "differences": [asdict(d) for d in self.differences[:limit]],
                "shown": min(limit, len(self.differences)), "total": len(self.differences)}


def digits(msisdn) -> str:
    return re.sub(r"\D", "", str(msisdn or ""))


# --- Telora's side ----------------------------------------------------------------------------------------

def telora_lines(brand) -> dict[str, Line]:
    """The brand's live mobile lines as the network should know them."""
    from telora.customers.models import Subscription

    subscriptions = (Subscription.objects.filter(brand=brand, status__in=LIVE, service_type__startswith="mobile")
                     .exclude(identifier="").values_list("pk", "identifier", "status", "sim__imsi", "sim__iccid"))
    barred, services = _provisioned_facts(brand)
    lines = {}
    for pk, identifier, status, imsi, iccid in subscriptions.iterator(chunk_size=5000):
        msisdn = digits(identifier)
        lines[msisdn] = Line(msisdn, imsi or "", iccid or "", status == "suspended" or barred.get(pk, False),
                             services.get(pk), pk)
    return lines


def _provisioned_facts(brand) -> tuple[dict[int, bool], dict[int, tuple[str, ...]]]:
    """Per line: barred by its last completed bar/unbar, and the services its last completed create or
    change_services carried (one pass, newest first)."""
    barred: dict[int, bool] = {}
    services: dict[int, tuple[str, ...]] = {}
    done = (ProvisioningRequest.objects.filter(brand=brand, state="completed", subscription__isnull=False,
                                               operation__in=("bar", "unbar", "create", "change_services"))
            .order_by("subscription_id", "-completed_at", "-id").values_list("subscription_id", "operation", "payload"))
    for subscription, operation, payload in done.iterator(chunk_size=5000):
        if operation in ("bar", "unbar"):
            barred.setdefault(subscription, operation == "bar")
        elif subscription not in services and isinstance(payload.get("services"), list):
            services[subscription] = tuple(sorted(str(s) for s in payload["services"]))
    return barred, services


def pending_msisdns(brand, target: NetworkTarget) -> set[str]:
    rows = ProvisioningRequest.objects.filter(brand=brand, target=target, state__in=OPEN).values_list("payload",
                                                                                                       flat=True)
    return {digits(p.get("msisdn")) for p in rows.iterator(chunk_size=5000)} - {""}


# --- the network's side -----------------------------------------------------------------------------------

def target_pages(target: NetworkTarget, *, page_size: int = PAGE) -> Iterator[tuple[list[Line], int]]:
    """The target's subscriber list, page by page: (lines, total announced)."""
    from telora.provisioning.services import credentials

    adapter, secrets, after = get_adapter(target.adapter), credentials(target), ""
    while True:
        try:
            answer = adapter.subscribers(target, secrets, after=after, limit=page_size)
        except OSError as exc:
            raise ReconcileError(str(exc)) from None
        if answer is None:
            raise ReconcileError(f"the {target.adapter} adapter cannot list the subscribers: give an export file")
        rows, following, total = answer
        yield [_network_line(r) for r in rows], total
        if not following or following == after:
            return
        after = following


def _network_line(row: dict) -> Line:
    services = row.get("services")
    if isinstance(services, str):  # an export's cell; empty: not given (rather than "none")
        services = [s for s in re.split(r"[;|]", services) if s.strip()] or None
    return Line(digits(row.get("msisdn")), str(row.get("imsi") or ""), str(row.get("iccid") or ""),
                _flag(row.get("barred")), tuple(sorted(str(s).strip() for s in services)) if services is not None
                else None)


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ReconcileError(f"barred: {value!r} is not yes/no, true/false or 1/0")


def export_pages(text: Iterable[str], *, page_size: int = PAGE) -> Iterator[tuple[list[Line], int]]:
    """An operator's export: CSV with a header naming at least `msisdn` (also imsi, iccid, barred,
    services). A bad row stops with its line number and the reason."""
    reader = csv.DictReader(text)
    names = {(n or "").strip().lower(): n for n in reader.fieldnames or []}
    if "msisdn" not in names:
        raise ReconcileError("export: the header must name an msisdn column")
    page: list[Line] = []
    for number, row in enumerate(reader, start=2):
        plain = {key: (row.get(original) or "").strip() for key, original in names.items()}
        if not digits(plain["msisdn"]):
            raise ReconcileError(f"export line {number}: msisdn: no number")
        try:
            page.append(_network_line({"msisdn": plain["msisdn"], "imsi": plain.get("imsi", ""),
                                       "iccid": plain.get("iccid", ""), "barred": plain.get("barred", ""),
                                       "services": plain.get("services")}))  # no column: not known
        except ReconcileError as exc:
            raise ReconcileError(f"export line {number}: {exc}") from None
        if len(page) >= page_size:
            yield page, 0
            page = []
    yield page, 0


def read_export(path) -> Iterator[tuple[list[Line], int]]:
    from pathlib import Path

    file = Path(path)
    if not file.is_file():
        raise ReconcileError(f"export: no file {path}")
    if file.stat().st_size > MAX_EXPORT_BYTES:
        raise ReconcileError(f"export: larger than {MAX_EXPORT_BYTES // 1024 // 1024} MB")
    data = file.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReconcileError("export: not UTF-8 text") from None
    return export_pages(io.StringIO(text, newline=""))


# --- comparing --------------------------------------------------------------------------------------------

def compare_line(mine: Line, theirs: Line) -> list[tuple[str, str]]:
    """The differences of one line known to both sides: (kind, what differs)."""
    found = []
    if mine.barred != theirs.barred:
        found.append(("state_mismatch", f"Telora: {'barred' if mine.barred else 'not barred'}, network: "
                                        f"{'barred' if theirs.barred else 'not barred'}"))
    sims = [f"{name} {a or '—'} ≠ {b or '—'}" for name, a, b in (("ICCID", mine.iccid, theirs.iccid),
                                                               ("IMSI", mine.imsi, theirs.imsi)) if a != b]
    if sims:
        found.append(("sim_mismatch", "; ".join(sims)))
    if mine.services is not None and theirs.services is not None and mine.services != theirs.services:
        missing, extra = sorted(set(mine.services) - set(theirs.services)), sorted(set(theirs.services) -
                                                                                    set(mine.services))
        found.append(("services_mismatch", "; ".join(filter(None, [
            f"missing at the network: {', '.join(missing)}" if missing else "",
            f"only at the network: {', '.join(extra)}" if extra else ""]))))
    return found


def reconcile(brand, *, target: NetworkTarget, pages: Iterable[tuple[list[Line], int]] | None = None,
              progress: Callable[[int, int], None] | None = None) -> Report:
    """Compare; `pages` is the network's side (the target's list when not given). `progress(done, total)`
    counts lines of both sides."""
    mine = telora_lines(brand)
    pending = pending_msisdns(brand, target)
    report = Report(telora_lines=len(mine))
    seen: set[str] = set()
    done, total = 0, len(mine)

    def add(kind, line_mine, line_theirs, detail):
        msisdn = (line_mine or line_theirs).msisdn
        report.differences.append(Difference(kind, msisdn, detail, _shown(line_mine), _shown(line_theirs),
                                             msisdn in pending, line_mine.subscription if line_mine else None))

    for page, announced in pages if pages is not None else target_pages(target):
        if announced and total == len(mine):
            total += announced
        for theirs in page:
            report.network_lines += 1
            if theirs.msisdn in seen:
                add("unknown_at_telora", None, theirs, "listed twice by the network")
                continue
            seen.add(theirs.msisdn)
            ours = mine.get(theirs.msisdn)
            if ours is None:
                add("unknown_at_telora", None, theirs, "the network has it; Telora has no live line")
                continue
            for kind, detail in compare_line(ours, theirs):
                add(kind, ours, theirs, detail)
        done += len(page)
        if progress is not None:
            progress(done, max(total, done))
    for msisdn, ours in mine.items():
        if msisdn not in seen:
            add("missing_at_network", ours, None, "Telora has a live line; the network does not know it")
    if progress is not None:
        progress(done + len(mine), max(done + len(mine), total))
    report.differences.sort(key=lambda d: (KINDS.index(d.kind), d.msisdn))
    return report


def _shown(line: Line | None) -> dict | None:
    if line is None:
        return None
    return {"imsi": line.imsi, "iccid": line.iccid, "barred": line.barred,
            "services": list(line.services) if line.services is not None else None}


def write_csv(report: Report, out) -> None:
    writer = csv.writer(out)
    writer.writerow(["kind", "msisdn", "detail", "pending", "subscription", "telora_iccid", "network_iccid",
                     "telora_barred", "network_barred"])
    for d in report.differences:
        writer.writerow([d.kind, d.msisdn, d.detail, "yes" if d.pending else "", d.subscription or "",
                         (d.telora or {}).get("iccid", ""), (d.network or {}).get("iccid", ""),
                         (d.telora or {}).get("barred", ""), (d.network or {}).get("barred", "")])


# --- as a job (the target page starts it and follows its progress) ---------------------------------------

def _register_job() -> None:
    from telora.core.services.jobs import job_kind

    @job_kind("provisioning.reconcile", title="Provisioning reconciliation", permission="provisioning.work")
    def run(context, *, target_id: int) -> dict:
        target = NetworkTarget.objects.select_related("brand").get(pk=target_id)
        context.log(f"reading {target.brand.code}'s lines and {target.code}'s subscriber list")

        def progress(done, total):
            if context.job.progress_total != total:
                context.set_total(total)
            if done > context.job.progress_done:
                context.advance(done - context.job.progress_done)

        try:
            report = reconcile(target.brand, target=target, progress=progress)
        except ReconcileError as exc:
            context.log(f"could not reconcile: {exc}")
            raise
        context.log(f"{report.telora_lines} lines at Telora, {report.network_lines} at the network, "
                    f"{len(report.differences)} differences")
        return {"target_id": target.pk, **report.as_dict()}


_register_job()
