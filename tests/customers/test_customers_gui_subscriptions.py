"""Selling and changing subscriptions through the GUI: the SIM and number come from the inventory,
the catalogue's rules are shown, and every action goes through a service and into the history."""

import pytest
from customers_gui_helpers import CSR, mobile_sale
from django.urls import reverse

from gui_helpers import form_errors, login
from telora.core import clock
from telora.core.models import AuditEvent
from telora.customers.models import NumberAssignment, Subscription
from telora.inventory.models import PhoneNumber, SimCard
from telora.inventory.services import create_number, create_number_group

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept")]


@pytest.fixture
def client(make_user, shop):
    return login(make_user("cas", {shop: CSR}), shop)


def sell(client, customer, **values):
    return client.post(reverse("customers:subscription_create", args=[customer.pk]),
                       mobile_sale(customer.accounts.get(), **values))


def events(obj, action):
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk), action=action)


def test_the_sale_starts_with_the_service_types_on_sale(client, ann):
    url = reverse("customers:subscription_create", args=[ann.pk])
    response = client.get(url)
    assert response.context["service_types"] == ["mobile_prepaid", "mobile_postpaid", "voip", "fiber"]
    assert response.context["form"] is None
    response = client.get(url, {"service_type": "mobile_postpaid"})
    form = response.context["form"]
    assert [code for code, _label in form.fields["plan"].choices] == ["MOB_POST_10GB", "MOB_POST_BASIC"]
    assert "OLD_PLAN" not in response.content.decode()  # no longer sold
    assert {"sim_choice", "number_choice"} <= set(form.fields) and "identifier" not in form.fields
    fiber = client.get(url, {"service_type": "fiber"}).context["form"]
    assert "identifier" in fiber.fields and "sim_choice" not in fiber.fields


def test_a_mobile_line_takes_the_next_free_sim_and_number(client, ann, shop):
    free_sim = SimCard.objects.filter(brand=shop, status="available").order_by("sim_type", "iccid").first()
    free_number = PhoneNumber.objects.filter(brand=shop, status="available").order_by("number").first()
    response = sell(client, ann, addons=["ROAM_EU_5GB"])
    line = Subscription.objects.get(customer=ann)
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:subscription_detail", args=[line.pk])
    assert line.status == "active" and line.identifier == free_number.number and line.sim == free_sim
    free_sim.refresh_from_db()
    free_number.refresh_from_db()
    assert free_sim.status == "allocated" and free_number.status == "allocated"
    assignment = NumberAssignment.objects.get(subscription=line)
    assert assignment.number == free_number.number and assignment.valid_to is None
    assert sorted(line.products.values_list("product__code", flat=True)) == ["MOB_POST_BASIC", "ROAM_EU_5GB"]
    assert events(line, "create").get().actor_label == "cas"
    page = client.get(response["Location"]).content.decode()
    assert free_sim.iccid in page and 'data-status="active"' in page and "Mobil Basis" in page


def test_a_chosen_sim_and_a_number_of_a_group(client, ann, shop, system):
    gold = create_number_group(shop, actor=system, at=clock.now(), code="gold", name="Gold", one_time_price="25")
    create_number(shop, "+31 6 12777777", actor=system, at=clock.now(), group=gold)
    chosen = SimCard.objects.filter(brand=shop, status="available", sim_type="esim").first()
    response = sell(client, ann, sim_choice="chosen", sim=chosen.iccid, number_group="gold")
    assert response.status_code == 302
    line = Subscription.objects.get(customer=ann)
    assert (line.sim, line.identifier) == (chosen, "31612777777")


def test_a_chosen_number_of_the_inventory(client, ann):
    assert sell(client, ann, number_choice="chosen", number="06 10000003").status_code == 302
    assert Subscription.objects.get(customer=ann).identifier == "31610000003"


def test_inventory_refusals_show_on_the_sim_and_number_fields(client, ann):
    response = sell(client, ann, sim_choice="chosen", sim="8931440400999999999")
    assert "Luhn check digit is wrong" in form_errors(response)["sim"][0]
    response = sell(client, ann, sim_choice="chosen", sim="")
    assert "sim" in form_errors(response)
    response = sell(client, ann, number_choice="chosen", number="+31 6 12999999")
    assert "not in the inventory" in form_errors(response)["number"][0]
    response = sell(client, ann, number_choice="chosen", number="")
    assert "number" in form_errors(response)
    response = sell(client, ann, number_group="platinum")
    assert "number_group" in form_errors(response)
    assert not Subscription.objects.filter(customer=ann).exists()


def test_the_catalogues_rules_are_shown_clearly(client, ann, shop):
    response = sell(client, ann, addons=["ROAM_EU_5GB", "DATA_L"])
    assert response.status_code == 200
    assert response.context["form"].rule_errors == ["DATA_L excludes ROAM_EU_5GB"]
    page = response.content.decode()
    assert 'data-testid="rule-errors"' in page and "DATA_L excludes ROAM_EU_5GB" in page
    assert 'telora-offer-refused" data-testid="offer-DATA_L"' in page  # the refused add-on is marked
    assert not Subscription.objects.filter(customer=ann).exists()
    assert SimCard.objects.filter(brand=shop, status="allocated").count() == 0  # nothing was taken


def test_a_plan_of_another_service_type_is_refused_on_the_plan(client, ann):
    response = sell(client, ann, plan="FIBER_500")
    assert "plan" in form_errors(response)


def test_a_fiber_line_with_its_circuit_id(client, ann):
    response = client.post(reverse("customers:subscription_create", args=[ann.pk]), {
        "service_type": "fiber", "billing_account": ann.accounts.get().pk, "plan": "FIBER_500",
        "identifier": "FIB-0001", "installation_address": ann.addresses.get().pk, "activate": "on"})
    assert response.status_code == 302
    line = Subscription.objects.get(customer=ann)
    assert (line.identifier, line.sim, line.commitment_end is not None) == ("FIB-0001", None, True)
    response = client.post(reverse("customers:subscription_create", args=[ann.pk]), {
        "service_type": "fiber", "billing_account": ann.accounts.get().pk, "plan": "FIBER_500",
        "identifier": "FIB-0001", "activate": "on"})
    assert "belongs to another live subscription" in form_errors(response)["identifier"][0]


def test_change_plan_add_and_remove_an_addon(client, mobile):
    response = client.post(reverse("customers:change_plan", args=[mobile.pk]), {"product": "MOB_POST_10GB"})
    assert response.status_code == 302
    mobile.refresh_from_db()
    assert mobile.commitment_end is not None
    plans = mobile.products.filter(kind="plan").order_by("start_at", "id")
    assert [(p.product.code, p.end_reason) for p in plans] == [("MOB_POST_BASIC", "plan_change"),
                                                               ("MOB_POST_10GB", "")]
    assert events(mobile, "change_plan").get().changes["plan"] == ["MOB_POST_BASIC", "MOB_POST_10GB"]
    # the current plan is not offered again
    offered = client.get(reverse("customers:change_plan", args=[mobile.pk])).context["form"].fields["product"].choices
    assert "MOB_POST_10GB" not in [code for code, _label in offered]

    response = client.post(reverse("customers:add_addon", args=[mobile.pk]), {"product": "DATA_L"})
    assert response.context["form"].rule_errors == ["DATA_L excludes ROAM_EU_5GB"]
    assert client.post(reverse("customers:add_addon", args=[mobile.pk]), {"product": "DATA_S"}).status_code == 302
    assert events(mobile, "add_addon").get().changes["addon"] == [None, "DATA_S"]
    roaming = mobile.products.get(product__code="ROAM_EU_5GB")
    client.post(reverse("customers:remove_addon", args=[mobile.pk, roaming.pk]))
    roaming.refresh_from_db()
    assert roaming.end_reason == "removed" and roaming.end_at is not None
    assert events(mobile, "remove_addon").exists()
    history = client.get(reverse("customers:subscription_detail", args=[mobile.pk])).content.decode()
    for action in ("change_plan", "add_addon", "remove_addon"):
        assert f'data-action="{action}"' in history


def test_suspend_resume_and_terminate(client, mobile, shop):
    detail = reverse("customers:subscription_detail", args=[mobile.pk])
    response = client.post(reverse("customers:suspend", args=[mobile.pk]), {"reason": ""})
    assert "reason" in form_errors(response)
    assert client.post(reverse("customers:suspend", args=[mobile.pk]), {"reason": "lost phone"})["Location"] == detail
    mobile.refresh_from_db()
    assert (mobile.status, mobile.status_reason) == ("suspended", "lost phone")
    assert events(mobile, "suspend").get().message == "lost phone"
    response = client.post(reverse("customers:suspend", args=[mobile.pk]), {"reason": "again"})
    assert "cannot become suspended" in form_errors(response)["__all__"][0]

    client.post(reverse("customers:resume", args=[mobile.pk]), {"reason": "found it"})
    mobile.refresh_from_db()
    assert mobile.status == "active" and events(mobile, "resume").exists()

    response = client.post(reverse("customers:terminate", args=[mobile.pk]), {"reason": "moving abroad"})
    assert "confirm" in form_errors(response)  # the confirmation box is required
    mobile.refresh_from_db()
    assert mobile.status == "active"
    client.post(reverse("customers:terminate", args=[mobile.pk]), {"reason": "moving abroad", "confirm": "on"})
    mobile.refresh_from_db()
    assert mobile.status == "terminated" and mobile.terminated_at is not None
    assert events(mobile, "terminate").get().message == "moving abroad"
    assert mobile.sim.status == "retired"
    assert PhoneNumber.objects.get(brand=shop, number=mobile.identifier).status == "quarantined"
    assert mobile.number_history.get().valid_to == mobile.terminated_at
    page = client.get(detail).content.decode()
    assert 'data-testid="change-plan"' not in page and 'data-status="terminated"' in page
    assert client.get(reverse("customers:change_plan", args=[mobile.pk])).status_code == 200
    response = client.post(reverse("customers:change_plan", args=[mobile.pk]), {"product": "MOB_POST_10GB"})
    assert "terminated" in form_errors(response)["__all__"][0]


def test_a_pending_line_is_activated_and_a_sim_swapped(client, ann, shop):
    sell(client, ann, activate="")
    line = Subscription.objects.get(customer=ann)
    assert line.status == "pending"
    client.post(reverse("customers:activate", args=[line.pk]))
    line.refresh_from_db()
    assert line.status == "active"
    old_sim = line.sim
    response = client.post(reverse("customers:swap_sim", args=[line.pk]), {"sim_choice": "next", "sim_type": "",
                                                                           "reason": "broken"})
    assert response.status_code == 302
    line.refresh_from_db()
    old_sim.refresh_from_db()
    assert line.sim != old_sim and old_sim.status == "retired"
