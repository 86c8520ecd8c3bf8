"""CSV imports: bad rows reported by line, good rows imported once, re-imports change nothing."""

import pytest

from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services import Actor, ServiceError
from telora.core.services.actors import PermissionDeniedError
from telora.inventory.models import ImportBatch, PhoneNumber, SimCard
from telora.inventory.selectors import sim_secrets
from telora.inventory.services import create_number_group, import_numbers, import_sims

from .factories import SIM_HEADER, make_iccid, make_imsi, make_number, sim_row


def _bad_luhn(n):
    iccid = make_iccid(n)
    return iccid[:-1] + str((int(iccid[-1]) + 1) % 10)


def test_bad_rows_are_reported_by_line_and_good_rows_imported(brand_a, system, write_csv):
    rows = [sim_row(n) for n in range(1, 6)]
    rows.append(sim_row(6, iccid=_bad_luhn(6)))             # line 7
    rows.append(sim_row(7, imsi="123450123456789"))          # line 8
    rows.append(sim_row(8, pin1="12", puk2="x"))             # line 9: two reasons, one failed row
    rows.append(sim_row(9, iccid=make_iccid(1), imsi=make_imsi(99)))  # line 10: duplicate of line 2
    path = write_csv("sims.csv", SIM_HEADER, rows)
    result = import_sims(brand_a, path, actor=system, at=clock.now())
    assert [str(e) for e in result.errors] == [
        "line 7: iccid: Luhn check digit is wrong",
        "line 8: imsi: unknown mobile country code (MCC) 123",
        "line 9: pin1: must be 4 to 8 digits",
        "line 9: puk2: must be 8 digits",
        f"line 10: iccid: {make_iccid(1)} appears twice (first on line 2)",
    ]
    assert (result.read, result.imported, result.unchanged, result.failed) == (9, 5, 0, 4)
    assert not result.ok
    assert SimCard.objects.filter(brand=brand_a).count() == 5
    batch = ImportBatch.objects.get()
    assert (batch.kind, batch.file_name, batch.rows_read, batch.rows_imported, batch.rows_failed) == (
        "sims", "sims.csv", 9, 5, 4)
    assert len(batch.sha256) == 64 and batch.errors[0] == "line 7: iccid: Luhn check digit is wrong"
    event = AuditEvent.objects.get(action="import")
    assert event.brand_id == brand_a.pk and "imported 5" in event.message
    sim = SimCard.objects.get(iccid=make_iccid(3))
    assert (sim.status, sim.sim_type, sim.partner, sim.batch, sim.import_batch_id) == (
        "available", "usim-4g", "Wholesale BV", "B2025-01", batch.pk)


def test_secrets_are_sealed_not_stored_plainly(brand_a, admin_user, system, write_csv):
    import_sims(brand_a, write_csv("s.csv", SIM_HEADER, [sim_row(1)]), actor=system, at=clock.now())
    sim = SimCard.objects.get()
    assert b"1234" not in bytes(sim.sealed_secrets) and b"00000001" not in bytes(sim.sealed_secrets)
    assert "1234" not in repr(sim) and not hasattr(sim, "pin1")
    assert sim_secrets(sim, admin_user) == {"pin1": "1234", "puk1": "00000001", "pin2": "5678", "puk2": "00000002"}


def test_reimporting_the_same_file_changes_nothing(brand_a, system, write_csv):
    path = write_csv("sims.csv", SIM_HEADER, [sim_row(n) for n in range(1, 51)])
    first = import_sims(brand_a, path, actor=system, at=clock.now())
    before = list(SimCard.objects.order_by("id").values())
    second = import_sims(brand_a, path, actor=system, at=clock.now())
    assert (first.imported, first.unchanged) == (50, 0)
    assert (second.read, second.imported, second.unchanged, second.failed) == (50, 0, 50, 0)
    assert second.ok
    assert list(SimCard.objects.order_by("id").values()) == before
    assert ImportBatch.objects.count() == 2  # each upload is recorded
    assert first.batch.sha256 == second.batch.sha256


def test_a_conflicting_reimport_is_reported_and_left_alone(brand_a, system, write_csv):
    import_sims(brand_a, write_csv("a.csv", SIM_HEADER, [sim_row(1), sim_row(2), sim_row(5)]), actor=system,
                at=clock.now())
    changed = [sim_row(1, batch="B2025-99", puk1="99999999"), sim_row(5), sim_row(3, imsi=make_imsi(2))]
    result = import_sims(brand_a, write_csv("b.csv", SIM_HEADER, changed), actor=system, at=clock.now())
    assert [str(e) for e in result.errors] == [
        f"line 2: iccid: {make_iccid(1)} exists already with another batch, puk1 (conflict; left as it is)",
        f"line 4: imsi: {make_imsi(2)} belongs to SIM card {make_iccid(2)}",
    ]
    assert (result.imported, result.unchanged, result.failed) == (0, 1, 2)
    assert SimCard.objects.get(iccid=make_iccid(1)).batch == "B2025-01"


def test_header_problems_refuse_the_whole_file(brand_a, system, write_csv):
    with pytest.raises(ServiceError, match="unknown column 'pin 1'"):
        import_sims(brand_a, write_csv("a.csv", ["iccid", "imsi", "pin 1"], []), actor=system, at=clock.now())
    with pytest.raises(ServiceError, match="the column 'imsi' is required"):
        import_sims(brand_a, write_csv("b.csv", ["iccid"], [[make_iccid(1)]]), actor=system, at=clock.now())
    with pytest.raises(ServiceError, match="is empty"):
        import_sims(brand_a, b"", actor=system, at=clock.now())
    assert not ImportBatch.objects.exists()


def test_semicolons_a_bom_blank_lines_and_short_rows(brand_a, system):
    content = ("\ufeffICCID;IMSI\n" + f"{make_iccid(1)};{make_imsi(1)}\n\n" + f"{make_iccid(2)}\n").encode()
    result = import_sims(brand_a, content, actor=system, at=clock.now(), file_name="excel.csv")
    assert [str(e) for e in result.errors] == ["line 4: row: has 1 columns, the header has 2"]
    assert result.imported == 1 and SimCard.objects.get().sealed_secrets is None


def test_numbers_import_normalises_and_checks_groups(brand_a, system, write_csv):
    gold = create_number_group(brand_a, actor=system, at=clock.now(), code="gold", name="Gold", one_time_price="49.5")
    rows = [
        ["+31 6 10000001", "", ""],
        ["0610000002", "gold", "available"],
        ["0031610000003", "", "allocated"],
        [make_number(4), "", "quarantined"],
        ["12", "", ""],                       # line 6
        ["0610000006", "platinum", ""],       # line 7
        ["0610000007", "", "reserved"],       # line 8
        ["31610000001", "", ""],              # line 9: same number as line 2
    ]
    result = import_numbers(brand_a, write_csv("n.csv", ["number", "group", "status"], rows), actor=system,
                            at=clock.now())
    assert [str(e) for e in result.errors] == [
        "line 6: number: '12' is not a valid phone number (read in NL)",
        "line 7: group: unknown number group 'platinum'",
        "line 8: status: 'reserved' is not one of available, allocated, quarantined",
        "line 9: number: +31610000001 appears twice (first on line 2)",
    ]
    assert result.imported == 4
    numbers = {n.number: n for n in PhoneNumber.objects.all()}
    assert set(numbers) == {"31610000001", "31610000002", "31610000003", "31610000004"}
    assert numbers["31610000002"].group == gold
    assert numbers["31610000003"].status == "allocated" and numbers["31610000003"].allocated_at
    assert numbers["31610000004"].status == "quarantined" and numbers["31610000004"].quarantine_until


def test_numbers_reimport_is_unchanged_and_a_group_change_conflicts(brand_a, system, write_csv):
    create_number_group(brand_a, actor=system, at=clock.now(), code="gold", name="Gold", one_time_price="49.5")
    path = write_csv("n.csv", ["number"], [[make_number(n)] for n in range(20)])
    import_numbers(brand_a, path, actor=system, at=clock.now())
    again = import_numbers(brand_a, path, actor=system, at=clock.now())
    assert (again.imported, again.unchanged, again.failed) == (0, 20, 0)
    moved = import_numbers(brand_a, write_csv("m.csv", ["number", "group"], [[make_number(3), "gold"]]),
                           actor=system, at=clock.now())
    assert [str(e) for e in moved.errors] == [
        f"line 2: number: +{make_number(3)} exists already in no group, not in gold (conflict; left as it is)"]


def test_the_same_numbers_may_live_in_two_brands(brand_a, brand_b, system, write_csv):
    path = write_csv("n.csv", ["number"], [["+31610000001"]])
    assert import_numbers(brand_a, path, actor=system, at=clock.now()).imported == 1
    assert import_numbers(brand_b, path, actor=system, at=clock.now()).imported == 1


def test_importing_needs_the_import_right(brand_a, make_user, write_csv):
    clerk = make_user("clerk", {brand_a: ["inventory.view", "inventory.change"]})
    importer = make_user("importer", {brand_a: ["inventory.view", "inventory.import"]})
    path = write_csv("s.csv", SIM_HEADER, [sim_row(1)])
    with pytest.raises(PermissionDeniedError, match="inventory.import"):
        import_sims(brand_a, path, actor=Actor(user=clerk), at=clock.now())
    result = import_sims(brand_a, path, actor=Actor(user=importer), at=clock.now())
    assert result.imported == 1 and result.batch.created_by == importer


def test_a_crash_while_writing_imports_nothing(brand_a, system, write_csv, monkeypatch):
    from telora.inventory.services import imports

    def broken_copy(sql, rows):
        next(iter(rows))
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(imports, "_copy", broken_copy)
    with pytest.raises(RuntimeError):
        import_sims(brand_a, write_csv("s.csv", SIM_HEADER, [sim_row(n) for n in range(5)]), actor=system,
                    at=clock.now())
    assert not SimCard.objects.exists() and not ImportBatch.objects.exists()
