"""for_user keeps brands apart; PIN/PUK codes open only with inventory.secrets, and every reading is audited."""

import pytest

from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services.actors import PermissionDeniedError
from telora.inventory.models import ImportBatch, InventorySettings, NumberGroup, PhoneNumber, SimCard
from telora.inventory.selectors import free_numbers, inventory_stats, sim_secrets
from telora.inventory.services import (
    configure_inventory,
    create_number,
    create_number_group,
    create_sim,
    import_numbers,
    reserve_number,
)

from .factories import make_iccid, make_imsi


@pytest.fixture
def stock(brand_a, brand_b, system):
    now = clock.now()
    made = {}
    for n, brand in enumerate((brand_a, brand_b), 1):
        made[brand.code] = create_sim(brand, actor=system, at=now, iccid=make_iccid(n), imsi=make_imsi(n),
                                      pin1="1111", puk1="22222222", pin2="3333", puk2="44444444")
        create_number(brand, "+31610000001", actor=system, at=now)
        create_number_group(brand, actor=system, at=now, code="gold", name="Gold", one_time_price="10")
        configure_inventory(brand, actor=system, at=now, quarantine_days=60)
        import_numbers(brand, b"number\n+31610000002\n", actor=system, at=now)
    return made


@pytest.mark.parametrize("model", [SimCard, PhoneNumber, NumberGroup, ImportBatch, InventorySettings])
def test_a_user_of_brand_a_sees_only_brand_a(model, stock, brand_a, brand_b, make_user, admin_user):
    ann = make_user("ann", {brand_a: ["inventory.view"]})
    assert model.objects.filter(brand=brand_b).exists()
    assert set(model.objects.for_user(ann).values_list("brand_id", flat=True)) == {brand_a.pk}
    assert not model.objects.for_user(ann, "change").exists()
    assert set(model.objects.for_user(admin_user).values_list("brand_id", flat=True)) == {brand_a.pk, brand_b.pk}


def test_someone_without_inventory_rights_sees_nothing(stock, brand_a, make_user):
    bob = make_user("bob", {brand_a: ["users.view"]})
    assert not SimCard.objects.for_user(bob).exists()
    assert not PhoneNumber.objects.for_user(bob).exists()


def test_secrets_need_the_secrets_right_and_are_audited(stock, brand_a, make_user):
    viewer = make_user("viewer", {brand_a: ["inventory.view", "inventory.change", "inventory.import"]})
    keeper = make_user("keeper", {brand_a: ["inventory.view", "inventory.secrets"]})
    sim = SimCard.objects.for_user(keeper).get()
    with pytest.raises(PermissionDeniedError, match="inventory.secrets"):
        sim_secrets(sim, viewer)
    assert not AuditEvent.objects.filter(action="view_secrets").exists()
    assert sim_secrets(sim, keeper) == {"pin1": "1111", "puk1": "22222222", "pin2": "3333", "puk2": "44444444"}
    event = AuditEvent.objects.get(action="view_secrets")
    assert (event.actor_user, event.brand_id, event.object_id) == (keeper, brand_a.pk, str(sim.pk))
    assert "1111" not in str(event.changes) + event.message


def test_the_secrets_right_in_one_brand_does_not_open_another(stock, brand_a, make_user):
    keeper = make_user("keeper", {brand_a: ["inventory.view", "inventory.secrets"]})
    with pytest.raises(PermissionDeniedError):
        sim_secrets(stock["bravo"], keeper)


def test_codes_never_appear_in_creation_audit(stock):
    texts = [str(e.changes) + e.message for e in AuditEvent.objects.filter(object_type="inventory.simcard")]
    assert texts and not any("1111" in t or "22222222" in t for t in texts)


def test_a_sealed_value_does_not_open_on_another_card(stock):
    from telora.inventory import sealing

    a, b = stock["alpha"], stock["bravo"]
    with pytest.raises(sealing.SealError, match="another card"):
        sealing.unseal(a.sealed_secrets, brand_id=b.brand_id, iccid=b.iccid)


def test_stats_and_free_numbers(stock, brand_a, system):
    reserve_number(brand_a, "+31610000001", actor=system, at=clock.now())
    stats = inventory_stats(brand_a)
    assert stats["sims"] == {"by_status": {"available": 1}, "total": 1, "free": 1, "free_by_type": {"": 1}}
    assert stats["numbers"]["by_status"] == {"available": 1, "reserved": 1}
    assert stats["numbers"]["free"] == 1
    assert [n.number for n in free_numbers(brand_a, at=clock.now(), contains="0002")] == ["31610000002"]
