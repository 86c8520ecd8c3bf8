"""CSV uploads of SIM cards and phone numbers.

Policy: every row is checked first and every bad row is reported with its line number and
reason; the good rows are imported, all in one transaction (a crash imports nothing), by COPY.
A row already present with the same values is skipped and counted as unchanged, so uploading
the same file again changes nothing; a row whose ICCID (or number) exists with other values is a
conflict, reported like a bad row and left alone. Each upload leaves one ImportBatch and one
AuditEvent summary. Columns are described in docs/inventory.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.storage import default_storage
from django.db import connection, transaction

from telora.core.models import Brand, Job
from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.core.services.jobs import start_job
from telora.inventory import sealing
from telora.inventory.models import ImportBatch, NumberGroup, NumberStatus, SimStatus
from telora.inventory.services import common
from telora.inventory.services.setup import clean_sim_values
from telora.inventory.validation import InvalidValue, clean_number

SIM_COLUMNS = ("iccid", "imsi", "pin1", "puk1", "pin2", "puk2", "sim_type", "partner", "batch")
NUMBER_COLUMNS = ("number", "group", "status")
NUMBER_IMPORT_STATUSES = (NumberStatus.AVAILABLE, NumberStatus.ALLOCATED, NumberStatus.QUARANTINED)
STORED_ERRORS = 10_000  # an ImportBatch keeps this many reasons; the result and the CLI have them all
PROGRESS_STEP = 2000
LOCK_CLASS = 7301  # advisory lock key: one import per brand at a time


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass
class ImportResult:
    batch: ImportBatch
    read: int = 0
    imported: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every row was good (imported or unchanged)."""
        return self.failed == 0

    def summary(self) -> str:
        return (f"read {self.read}, imported {self.imported}, unchanged {self.unchanged}, "
                f"failed {self.failed}")

    def as_dict(self) -> dict:
        return {"batch_id": self.batch.pk, "read": self.read, "imported": self.imported,
                "unchanged": self.unchanged, "failed": self.failed,
                "errors": [str(e) for e in self.errors[:STORED_ERRORS]]}


class _NoProgress:
    def set_total(self, total: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


def _read(file, file_name: str | None) -> tuple[str, bytes]:
    """A path, bytes, or an open file (text or binary, e.g. Django's UploadedFile)."""
    if isinstance(file, str | Path):
        path = Path(file)
        return file_name or path.name, path.read_bytes()
    if isinstance(file, bytes):
        return file_name or "upload.csv", file
    content = file.read()
    if isinstance(content, str):
        content = content.encode()
    return file_name or Path(getattr(file, "name", "") or "upload.csv").name, content


def _parse(content: bytes, columns: tuple[str, ...], required: tuple[str, ...]) -> list[tuple[int, dict]]:
    """(line number, {column: value}) for each non-blank data row; a bad header refuses the file."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ServiceError(f"file: is not UTF-8 text (byte {exc.start})", field="file") from None
    nul = text.find("\x00")
    if nul >= 0:
        raise ServiceError(f"file: line {text.count(chr(10), 0, nul) + 1} holds a NUL character; send a CSV text file",
                           field="file")
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise ServiceError("file: is empty; the first line must name the columns", field="file") from None
    except csv.Error as exc:
        raise ServiceError(f"file: line 1 cannot be read: {exc}", field="file") from None
    unknown = [name for name in header if name not in columns]
    if unknown:
        raise ServiceError(f"header: unknown column {unknown[0]!r}; the columns are {', '.join(columns)}",
                           field="file")
    missing = [name for name in required if name not in header]
    if missing:
        raise ServiceError(f"header: the column {missing[0]!r} is required (line 1 must name the columns)",
                           field="file")
    if len(set(header)) != len(header):
        raise ServiceError("header: a column is named twice", field="file")
    rows, last = [], reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a cell over csv.field_size_limit(), an unclosed quote at the end
            raise ServiceError(f"file: line {last + 1} cannot be read: {exc}", field="file") from None
        line, last = last + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            rows.append((line, {"__error__": f"has {len(cells)} columns, the header has {len(header)}"}))
            continue
        rows.append((line, dict(zip(header, cells, strict=True))))
    return rows


def _fail(errors: list[RowError], line: int, problems) -> None:
    errors.extend(RowError(line, name, reason) for name, reason in problems)


def _finish(brand: Brand, kind: str, *, actor: Actor, at: dt.datetime, name: str, content: bytes, read: int,
            imported: int, unchanged: int, errors: list[RowError], job: Job | None, noun: str) -> ImportResult:
    errors.sort(key=lambda e: e.line)
    failed = len({e.line for e in errors})
    batch = ImportBatch.objects.create(
        brand=brand, kind=kind, file_name=name[:255], sha256=hashlib.sha256(content).hexdigest(), rows_read=read,
        rows_imported=imported, rows_unchanged=unchanged, rows_failed=failed,
        errors=[str(e) for e in errors[:STORED_ERRORS]], errors_truncated=max(0, len(errors) - STORED_ERRORS),
        created_at=at, created_by=actor.user, actor_label=actor.label[:200], job=job,
    )
    counts = {"read": read, "imported": imported, "unchanged": unchanged, "failed": failed}
    record_event(actor=actor, at=at, action="import", obj=batch, brand=brand, new={"file": batch.file_name, **counts},
                 message=f"{noun} from {batch.file_name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return ImportResult(batch=batch, read=read, imported=imported, unchanged=unchanged, failed=failed, errors=errors)


def _lock(brand: Brand) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, brand.pk])


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _copy(sql: str, rows) -> None:
    with connection.cursor() as cur, cur.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


# ---- SIM cards -----------------------------------------------------------------------------


def import_sims(brand: Brand, file, *, actor: Actor, at: dt.datetime, file_name: str | None = None,
                progress=None, job: Job | None = None) -> ImportResult:
    """Import SIM cards from CSV (columns: iccid, imsi, pin1, puk1, pin2, puk2, sim_type, partner, batch)."""
    common.require(actor, brand, "inventory.import")
    progress = progress or _NoProgress()
    name, content = _read(file, file_name)
    rows = _parse(content, SIM_COLUMNS, ("iccid", "imsi"))
    progress.set_total(len(rows))
    errors: list[RowError] = []
    good: list[tuple[int, dict]] = []
    first_iccid: dict[str, int] = {}
    first_imsi: dict[str, int] = {}
    sim_types = common.known_sim_types(brand)
    for n, (line, values) in enumerate(rows, 1):
        if "__error__" in values:
            _fail(errors, line, [("row", values["__error__"])])
        else:
            cleaned, problems = clean_sim_values(values)
            problems += common.sim_type_problems(cleaned.get("sim_type", ""), sim_types)
            for key, seen in (("iccid", first_iccid), ("imsi", first_imsi)):
                if key in cleaned and cleaned[key] in seen:
                    problems.append((key, f"{cleaned[key]} appears twice (first on line {seen[cleaned[key]]})"))
            if problems:
                _fail(errors, line, problems)
            else:
                first_iccid[cleaned["iccid"]] = first_imsi[cleaned["imsi"]] = line
                good.append((line, cleaned))
        if n % PROGRESS_STEP == 0:
            progress.advance(PROGRESS_STEP)
    progress.advance(len(rows) % PROGRESS_STEP)

    with transaction.atomic():
        _lock(brand)
        existing = {row[0]: row for row in _fetch(
            "SELECT iccid, imsi, sealed_secrets, sim_type, partner, batch FROM inventory_simcard "
            "WHERE brand_id = %s AND iccid = ANY(%s)", [brand.pk, list(first_iccid)])}
        imsi_owner = dict(_fetch("SELECT imsi, iccid FROM inventory_simcard WHERE brand_id = %s AND imsi = ANY(%s)",
                                 [brand.pk, list(first_imsi)]))
        new, unchanged = [], 0
        for line, sim in good:
            found = existing.get(sim["iccid"])
            if found is not None:
                differs = _sim_differences(brand, sim, found)
                if differs:
                    _fail(errors, line, [("iccid", f"{sim['iccid']} exists already with another "
                                                   f"{', '.join(differs)} (conflict; left as it is)")])
                else:
                    unchanged += 1
            elif imsi_owner.get(sim["imsi"], sim["iccid"]) != sim["iccid"]:
                _fail(errors, line, [("imsi", f"{sim['imsi']} belongs to SIM card {imsi_owner[sim['imsi']]}")])
            else:
                new.append(sim)
        result = _finish(brand, ImportBatch.Kind.SIMS, actor=actor, at=at, name=name, content=content,
                         read=len(rows), imported=len(new), unchanged=unchanged, errors=errors, job=job,
                         noun="SIM cards")
        batch_id = result.batch.pk
        _copy("COPY inventory_simcard (brand_id, iccid, imsi, sealed_secrets, sim_type, partner, batch, status, "
              "previous_status, reserved_for, import_batch_id, created_at, updated_at) FROM STDIN",
              ((brand.pk, sim["iccid"], sim["imsi"], sealing.seal(sim, brand_id=brand.pk, iccid=sim["iccid"]),
                sim["sim_type"], sim["partner"], sim["batch"], SimStatus.AVAILABLE.value, "", "", batch_id, at, at)
               for sim in new))
    return result


def _sim_differences(brand: Brand, sim: dict, found: tuple) -> list[str]:
    _, imsi, sealed, sim_type, partner, batch = found
    differs = [name for name, old in (("imsi", imsi), ("sim_type", sim_type), ("partner", partner),
                                      ("batch", batch)) if sim[name] != old]
    try:
        codes = sealing.unseal(sealed, brand_id=brand.pk, iccid=sim["iccid"])
    except sealing.SealError:
        return [*differs, "PIN/PUK codes (the stored ones do not open)"]
    differs += [name for name in sealing.SECRET_FIELDS if codes[name] != sim[name]]  # names only, never codes
    return differs


# ---- phone numbers -------------------------------------------------------------------------


def import_numbers(brand: Brand, file, *, actor: Actor, at: dt.datetime, file_name: str | None = None,
                   progress=None, job: Job | None = None) -> ImportResult:
    """Import phone numbers from CSV (columns: number, group, status), normalised to E.164."""
    common.require(actor, brand, "inventory.import")
    progress = progress or _NoProgress()
    name, content = _read(file, file_name)
    rows = _parse(content, NUMBER_COLUMNS, ("number",))
    progress.set_total(len(rows))
    groups = {g.code: g for g in NumberGroup.objects.filter(brand=brand)}
    errors: list[RowError] = []
    good: list[tuple[int, str, NumberGroup | None, str]] = []
    first: dict[str, int] = {}
    for n, (line, values) in enumerate(rows, 1):
        problems = []
        if "__error__" in values:
            problems.append(("row", values["__error__"]))
        else:
            digits = group = None
            try:
                digits = clean_number(values["number"], brand.country)
            except InvalidValue as exc:
                problems.append(("number", str(exc)))
            if digits in first:
                problems.append(("number", f"+{digits} appears twice (first on line {first[digits]})"))
            code = (values.get("group") or "").strip()
            if code:
                group = groups.get(code)
                if group is None:
                    problems.append(("group", f"unknown number group {code!r}"))
            status = (values.get("status") or "").strip().lower() or NumberStatus.AVAILABLE
            if status not in NUMBER_IMPORT_STATUSES:
                problems.append(("status", f"{status!r} is not one of {', '.join(NUMBER_IMPORT_STATUSES)}"))
        if problems:
            _fail(errors, line, problems)
        else:
            first[digits] = line
            good.append((line, digits, group, status))
        if n % PROGRESS_STEP == 0:
            progress.advance(PROGRESS_STEP)
    progress.advance(len(rows) % PROGRESS_STEP)

    with transaction.atomic():
        _lock(brand)
        existing = dict(_fetch("SELECT number, group_id FROM inventory_phonenumber "
                               "WHERE brand_id = %s AND number = ANY(%s)", [brand.pk, list(first)]))
        names = {g.pk: g.code for g in groups.values()}
        new, unchanged = [], 0
        for line, digits, group, status in good:
            if digits not in existing:
                new.append((digits, group, status))
            elif existing[digits] == (group.pk if group else None):
                unchanged += 1
            else:
                was = names.get(existing[digits], "no group")
                _fail(errors, line, [("number", f"+{digits} exists already in {was}, not in "
                                                f"{group.code if group else 'no group'} (conflict; left as it is)")])
        result = _finish(brand, ImportBatch.Kind.NUMBERS, actor=actor, at=at, name=name, content=content,
                         read=len(rows), imported=len(new), unchanged=unchanged, errors=errors, job=job,
                         noun="phone numbers")
        quarantine = {}
        for group in {g for _, g, s in new if s == NumberStatus.QUARANTINED}:
            quarantine[group] = at + dt.timedelta(days=common.quarantine_days(brand, group))
        _copy("COPY inventory_phonenumber (brand_id, number, group_id, status, reserved_for, allocated_at, "
              "quarantine_until, import_batch_id, created_at, updated_at) FROM STDIN",
              ((brand.pk, digits, group.pk if group else None, str(status), "",
                at if status == NumberStatus.ALLOCATED else None,
                quarantine.get(group) if status == NumberStatus.QUARANTINED else None, result.batch.pk, at, at)
               for digits, group, status in new))
    return result


# ---- in the background ---------------------------------------------------------------------

IMPORTERS = {"sims": import_sims, "numbers": import_numbers}


def start_import(brand: Brand, what: str, file, *, actor: Actor, at: dt.datetime,
                 file_name: str | None = None) -> Job:
    """Keep the uploaded file and run the import as a job (kind `inventory_import`) the GUI can follow."""
    if what not in IMPORTERS:
        raise ServiceError(f"what: import {what!r}? give sims or numbers", field="what")
    common.require(actor, brand, "inventory.import")
    name, content = _read(file, file_name)
    path = default_storage.save(f"imports/inventory/{brand.code}/{at:%Y%m%d-%H%M%S}-{Path(name).name}",
                                io.BytesIO(content))
    return start_job("inventory_import", actor=actor, at=at, brand=brand,
                     title=f"Import {what} from {name}",
                     params={"brand_id": brand.pk, "what": what, "path": path, "file_name": name})
