"""A sign-up through its flow takes the SIM card and number its allocation steps reserved: nothing stays
reserved behind it, and no second card or number leaves the stock."""

import pytest
from django.apps import apps

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept"),
              pytest.mark.skipif(not apps.is_installed("telora.workflows"), reason="needs the workflow engine")]


def test_a_sign_up_takes_what_its_flow_reserved(ann, system):
    from telora.core import clock
    from telora.inventory.models import PhoneNumber, SimCard
    from telora.orders.flows import FLOW_DIR
    from telora.orders.models import Order
    from telora.orders.services import create_order
    from telora.workflows.models import HumanTask
    from telora.workflows.services import complete_task, create_desk, load_flows

    for code in ("credit", "network", "qualification", "installation", "logistics", "retention", "porting"):
        create_desk(ann.brand, code, code.title(), actor=system, at=clock.now())
    load_flows(FLOW_DIR, actor=system, at=clock.now())
    free_sims = SimCard.objects.filter(brand=ann.brand, status="available").count()
    free_numbers = PhoneNumber.objects.filter(brand=ann.brand, status="available").count()
    order = create_order(ann, actor=system, at=clock.now(), order_type="sign_up", items=[{
        "product_offering": "MOB_POST_BASIC", "characteristics": {"service_type": "mobile_postpaid"}}])
    for data in ({"decision": "approved"}, {"host_reference": "HOST-1"}):
        task = HumanTask.objects.get(instance_id=order.flow_instance_id, state="open")
        complete_task(task, data=data, actor=system, at=clock.now())
    order = Order.objects.get(pk=order.pk)
    line = order.subscription
    assert order.state == "completed" and line.status == "active"
    item = order.items.get()
    assert (item.characteristics["sim"], item.characteristics["number"]) == (line.sim.iccid, line.phone_number.number)
    assert not SimCard.objects.filter(brand=ann.brand, status="reserved").exists()
    assert not PhoneNumber.objects.filter(brand=ann.brand, status="reserved").exists()
    assert SimCard.objects.filter(brand=ann.brand, status="available").count() == free_sims - 1
    assert PhoneNumber.objects.filter(brand=ann.brand, status="available").count() == free_numbers - 1
