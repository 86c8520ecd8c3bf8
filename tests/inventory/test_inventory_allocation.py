"""Reserving, allocating, releasing: transitions, references, expiry and quarantine."""

import datetime as dt

import pytest
import time_machine

from telora.core.models import AuditEvent
from telora.core.services import Actor, ServiceError
from telora.core.services.actors import PermissionDeniedError
from telora.inventory.jobs import sweep_expired
from telora.inventory.models import PhoneNumber, SimCard
from telora.inventory.services import (
    allocate_number,
    allocate_sim,
    block_sim,
    cancel_number_reservation,
    configure_inventory,
    create_number,
    create_number_group,
    create_sim,
    end_quarantine,
    release_number,
    release_sim,
    reserve_number,
    reserve_sim,
    retire_sim,
    unblock_sim,
    update_number_group,
)

from .factories import make_iccid, make_imsi

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def numbers(brand_a, system):
    gold = create_number_group(brand_a, actor=system, at=T0, code="gold", name="Gold", one_time_price="99")
    made = [create_number(brand_a, f"+31 6 1000000{n}", actor=system, at=T0) for n in range(1, 5)]
    made += [create_number(brand_a, f"+31 6 2000000{n}", actor=system, at=T0, group=gold) for n in range(1, 3)]
    return made


@pytest.fixture
def sims(brand_a, system):
    return [create_sim(brand_a, actor=system, at=T0, iccid=make_iccid(n), imsi=make_imsi(n), pin1="1234",
                       sim_type="esim" if n > 3 else "usim") for n in range(1, 6)]


def test_next_free_number_is_reserved_for_the_default_time_and_then_allocated(brand_a, system, numbers):
    number = reserve_number(brand_a, actor=system, at=T0, reference="order O1")
    assert (number.number, number.status, number.reserved_for) == ("31610000001", "reserved", "order O1")
    assert number.reserved_until == T0 + dt.timedelta(minutes=30)
    assert reserve_number(brand_a, actor=system, at=T0).number == "31610000002"  # the reserved one is skipped
    with pytest.raises(ServiceError, match=r"\+31610000001 is reserved for order O1 until 2025-03-01 12:30"):
        allocate_number(brand_a, "0610000001", actor=system, at=T0, reference="order O2")
    allocated = allocate_number(brand_a, "0610000001", actor=system, at=T0, reference="order O1")
    assert (allocated.status, allocated.allocated_at, allocated.reserved_until) == ("allocated", T0, None)
    event = AuditEvent.objects.filter(action="allocate").get()
    assert event.changes["status"] == ["reserved", "allocated"] and event.object_repr == "+31610000001"


def test_a_group_is_asked_for_by_code_and_runs_out(brand_a, system, numbers):
    assert reserve_number(brand_a, actor=system, at=T0, group="gold").number == "31620000001"
    assert allocate_number(brand_a, actor=system, at=T0, group="gold").number == "31620000002"
    with pytest.raises(ServiceError, match="no free number in group gold"):
        allocate_number(brand_a, actor=system, at=T0, group="gold")


def test_an_expired_reservation_is_free_before_the_periodic_task_runs(brand_a, system, numbers):
    for _ in range(4):
        reserve_number(brand_a, actor=system, at=T0, ttl=dt.timedelta(minutes=5), reference="abandoned")
    later = T0 + dt.timedelta(minutes=6)
    taken = allocate_number(brand_a, "+31610000003", actor=system, at=later, reference="order O9")
    assert taken.status == "allocated"
    with pytest.raises(ServiceError, match="no free number"):
        allocate_number(brand_a, actor=system, at=T0 + dt.timedelta(minutes=1), reference="x")
    # After expiry, "next free" hands out run-out reservations when nothing is plainly available.
    PhoneNumber.objects.filter(group__code="gold").update(status="allocated", allocated_at=T0)
    assert allocate_number(brand_a, actor=system, at=later).number == "31610000001"


def test_reserving_again_with_the_same_reference_extends(brand_a, system, numbers):
    reserve_number(brand_a, "+31610000001", actor=system, at=T0, reference="O1")
    again = reserve_number(brand_a, "+31610000001", actor=system, at=T0 + dt.timedelta(minutes=20), reference="O1")
    assert again.reserved_until == T0 + dt.timedelta(minutes=50)
    with pytest.raises(ServiceError, match="reserved for O1"):
        reserve_number(brand_a, "+31610000001", actor=system, at=T0, reference="O2")
    cancelled = cancel_number_reservation(brand_a, "+31610000001", actor=system, at=T0, reference="O1")
    assert (cancelled.status, cancelled.reserved_until, cancelled.reserved_for) == ("available", None, "")


def test_release_quarantines_for_the_brand_or_group_days_then_the_task_frees(brand_a, system, numbers):
    configure_inventory(brand_a, actor=system, at=T0, quarantine_days=30)
    gold = numbers[-1].group
    update_number_group(gold, actor=system, at=T0, quarantine_days=180)
    for number in ("+31610000001", "+31620000001"):
        allocate_number(brand_a, number, actor=system, at=T0)
    regular = release_number(brand_a, "+31610000001", actor=system, at=T0)
    golden = release_number(brand_a, "+31620000001", actor=system, at=T0)
    assert (regular.status, regular.quarantine_until) == ("quarantined", T0 + dt.timedelta(days=30))
    assert golden.quarantine_until == T0 + dt.timedelta(days=180)
    with pytest.raises(ServiceError, match="is quarantined and cannot become reserved"):
        reserve_number(brand_a, "+31610000001", actor=system, at=T0 + dt.timedelta(days=29))
    with time_machine.travel(T0 + dt.timedelta(days=31), tick=False):
        counts = sweep_expired()
    assert counts["numbers_end_quarantine"] == 1
    regular.refresh_from_db()
    golden.refresh_from_db()
    assert (regular.status, regular.quarantine_until) == ("available", None)
    assert golden.status == "quarantined"
    event = AuditEvent.objects.get(action="end_quarantine")
    assert event.object_repr == "+31610000001" and event.actor_label == "job:inventory_expiry"
    assert event.changes["status"] == ["quarantined", "available"]


def test_the_default_quarantine_is_90_days_and_can_end_early(brand_a, system, numbers):
    allocate_number(brand_a, "+31610000004", actor=system, at=T0)
    released = release_number(brand_a, "+31610000004", actor=system, at=T0)
    assert released.quarantine_until == T0 + dt.timedelta(days=90)
    assert end_quarantine(brand_a, "+31610000004", actor=system, at=T0).status == "available"


def test_the_periodic_task_frees_run_out_reservations(brand_a, system, numbers, sims):
    reserve_number(brand_a, actor=system, at=T0, ttl=dt.timedelta(minutes=1))
    reserve_sim(brand_a, actor=system, at=T0, ttl=dt.timedelta(minutes=1))
    reserve_sim(brand_a, actor=system, at=T0, ttl=dt.timedelta(days=1))
    with time_machine.travel(T0 + dt.timedelta(minutes=2), tick=False):
        counts = sweep_expired()
    assert counts == {"sims_expire_reservation": 1, "numbers_expire_reservation": 1, "numbers_end_quarantine": 0}
    assert SimCard.objects.filter(status="reserved").count() == 1
    assert not PhoneNumber.objects.filter(status="reserved").exists()


def test_numbers_refuse_impossible_moves(brand_a, system, numbers):
    with pytest.raises(ServiceError, match="is available and cannot become quarantined"):
        release_number(brand_a, "+31610000001", actor=system, at=T0)
    with pytest.raises(ServiceError, match="is not in the inventory of alpha"):
        reserve_number(brand_a, "+31619999999", actor=system, at=T0)
    with pytest.raises(ServiceError, match="not a valid phone number"):
        reserve_number(brand_a, "12", actor=system, at=T0)


def test_sim_lifecycle(brand_a, system, sims):
    assert reserve_sim(brand_a, actor=system, at=T0, sim_type="esim").iccid == make_iccid(4)
    sim = allocate_sim(brand_a, actor=system, at=T0, sim_type="usim", reference="sub-1")
    assert (sim.iccid, sim.status) == (make_iccid(1), "allocated")
    blocked = block_sim(brand_a, sim, actor=system, at=T0, reason="stolen")
    assert (blocked.status, blocked.previous_status) == ("blocked", "allocated")
    with pytest.raises(ServiceError, match="is blocked; unblock it first"):
        allocate_sim(brand_a, sim.iccid, actor=system, at=T0, reference="sub-1")
    assert unblock_sim(brand_a, sim, actor=system, at=T0).status == "allocated"
    assert retire_sim(brand_a, sim, actor=system, at=T0, reason="swapped").status == "retired"
    for move in (reserve_sim, unblock_sim, block_sim, retire_sim):
        with pytest.raises(ServiceError):
            move(brand_a, sim.iccid, actor=system, at=T0)
    spare = allocate_sim(brand_a, make_iccid(2), actor=system, at=T0)
    assert release_sim(brand_a, spare, actor=system, at=T0).status == "available"
    assert AuditEvent.objects.filter(object_type="inventory.simcard", action="block").get().message == "stolen"


def test_an_available_blocked_sim_returns_to_stock(brand_a, system, sims):
    block_sim(brand_a, make_iccid(3), actor=system, at=T0)
    assert allocate_sim(brand_a, actor=system, at=T0, sim_type="usim").iccid == make_iccid(1)
    assert unblock_sim(brand_a, make_iccid(3), actor=system, at=T0).status == "available"


def test_create_sim_refuses_bad_and_duplicate_cards(brand_a, system, sims):
    with pytest.raises(ServiceError, match="iccid: Luhn check digit is wrong"):
        create_sim(brand_a, actor=system, at=T0, iccid=make_iccid(9)[:-1] + "0" if make_iccid(9)[-1] != "0"
                   else make_iccid(9)[:-1] + "1", imsi=make_imsi(9))
    with pytest.raises(ServiceError, match="imsi: .* is in the inventory already"):
        create_sim(brand_a, actor=system, at=T0, iccid=make_iccid(9), imsi=make_imsi(1))


def test_allocation_needs_the_change_right(brand_a, make_user, numbers):
    viewer = make_user("viewer", {brand_a: ["inventory.view"]})
    with pytest.raises(PermissionDeniedError, match="inventory.change"):
        reserve_number(brand_a, actor=Actor(user=viewer), at=T0)
    clerk = make_user("clerk", {brand_a: ["inventory.change"]})
    assert reserve_number(brand_a, actor=Actor(user=clerk), at=T0).status == "reserved"
    assert AuditEvent.objects.filter(action="reserve").get().actor_user == clerk


def test_a_brands_stock_is_its_own(brand_a, brand_b, system, numbers):
    with pytest.raises(ServiceError, match="no free number"):
        reserve_number(brand_b, actor=system, at=T0)
    with pytest.raises(ServiceError, match="belongs to another brand"):
        allocate_number(brand_b, numbers[0], actor=system, at=T0)
