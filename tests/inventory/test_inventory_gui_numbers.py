"""Number screens: filters, reserve, cancel, release and end a quarantine; number groups; a number by hand."""

import pytest
from django.urls import reverse

from gui_helpers import login
from telora.core import clock
from telora.core.models import AuditEvent
from telora.inventory import services
from telora.inventory.models import NumberGroup, PhoneNumber

from .factories import make_number
from .inventory_gui_helpers import CHANGE, make_stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(brand_a, system):
    return make_stock(brand_a, system)


@pytest.fixture
def client(make_user, brand_a):
    return login(make_user("cleo", {brand_a: CHANGE}), brand_a)


def numbers(client, **params):
    return [row["number"].number for row in client.get(reverse("inventory:number_list"), params).context["rows"]]


def test_filters(client, stock):
    one, two, three = (n.number for n in stock["numbers"])
    assert numbers(client) == [one, two, three]
    assert numbers(client, group=stock["gold"].pk) == [three]
    assert numbers(client, group="none") == [one, two]
    assert numbers(client, q="06 1000 0002") == [two]
    services.reserve_number(stock["gold"].brand, stock["numbers"][0], actor=services.common.Actor.system("t"),
                            at=clock.now())
    assert numbers(client, status="reserved") == [one]


def test_reserve_cancel_release_and_end_quarantine(client, stock, system, brand_a):
    number = stock["numbers"][0]
    url = reverse("inventory:number_detail", args=[number.pk])
    assert 'data-testid="reserve-form"' in client.get(url).content.decode()
    response = client.post(reverse("inventory:number_reserve", args=[number.pk]),
                           {"reference": "order O-17", "minutes": "45"})
    assert response.url == url
    number.refresh_from_db()
    assert number.status == "reserved" and number.reserved_for == "order O-17"
    assert round((number.reserved_until - clock.now()).total_seconds() / 60) == 45
    assert 'data-testid="cancel-reservation"' in client.get(url).content.decode()
    client.post(reverse("inventory:number_cancel", args=[number.pk]))
    number.refresh_from_db()
    assert number.status == "available"
    services.allocate_number(brand_a, number, actor=system, at=clock.now())
    assert 'data-testid="release"' in client.get(url).content.decode()
    client.post(reverse("inventory:number_release", args=[number.pk]))
    number.refresh_from_db()
    assert number.status == "quarantined"
    client.post(reverse("inventory:number_end_quarantine", args=[number.pk]))
    number.refresh_from_db()
    assert number.status == "available"
    actions = list(AuditEvent.objects.filter(object_type="inventory.phonenumber", object_id=str(number.pk),
                                             actor_user__username="cleo").values_list("action", flat=True))
    assert sorted(actions) == ["cancel_reservation", "end_quarantine", "release", "reserve"]


def test_a_refused_action_says_why(client, stock):
    number = stock["numbers"][0]
    response = client.post(reverse("inventory:number_release", args=[number.pk]), follow=True)
    assert f"number: {number.e164} is available and cannot become quarantined" in response.content.decode()
    bad = client.post(reverse("inventory:number_reserve", args=[number.pk]), {"minutes": "0"}, follow=True)
    assert "Ensure this value is greater than or equal to 1." in bad.content.decode()


def test_number_groups(client, brand_a, stock):
    listing = client.get(reverse("inventory:group_list"))
    gold = listing.context["object_list"][0]
    assert (gold.code, gold.total, gold.free) == ("gold", 1, 1)
    response = client.post(reverse("inventory:group_create"), {"code": "gold", "name": "Gold again",
                                                               "one_time_price": "10"})
    assert response.context["form"].errors == {"code": ["the number group 'gold' exists already"]}
    response = client.post(reverse("inventory:group_create"), {"code": "silver", "name": "Silver",
                                                               "one_time_price": "9.5", "quarantine_days": "30",
                                                               "is_active": "on"})
    silver = NumberGroup.objects.get(code="silver")
    assert response.url == reverse("inventory:group_detail", args=[silver.pk])
    assert silver.quarantine_days == 30 and silver.currency == "EUR"
    edit = client.get(reverse("inventory:group_edit", args=[silver.pk]))
    assert edit.context["form"].initial["name"] == "Silver"
    client.post(reverse("inventory:group_edit", args=[silver.pk]), {"code": "silver", "name": "Silver plus",
                                                                    "one_time_price": "12"})
    silver.refresh_from_db()
    assert (silver.name, silver.is_active, silver.quarantine_days) == ("Silver plus", False, None)
    detail = client.get(reverse("inventory:group_detail", args=[silver.pk]))
    assert detail.status_code == 200 and 'data-testid="history"' in detail.content.decode()


def test_a_number_by_hand(client, stock):
    response = client.post(reverse("inventory:number_create"), {"number": "12"})
    assert list(response.context["form"].errors) == ["number"]
    response = client.post(reverse("inventory:number_create"), {"number": "06 1000 0001"})
    assert response.context["form"].errors["number"] == [f"+{make_number(1)} is in the inventory already"]
    response = client.post(reverse("inventory:number_create"), {"number": "06 1000 0042",
                                                                "group": stock["gold"].pk})
    number = PhoneNumber.objects.get(number=make_number(42))
    assert response.url == reverse("inventory:number_detail", args=[number.pk]) and number.group == stock["gold"]


def test_deleting_a_group_only_when_it_is_empty(client, stock):
    gold = stock["gold"]
    refused = client.post(reverse("inventory:group_delete", args=[gold.pk]), follow=True)
    assert "group: gold still holds 1 number; make it inactive instead" in refused.content.decode()
    assert NumberGroup.objects.filter(pk=gold.pk).exists()
    empty = NumberGroup.objects.create(brand=gold.brand, code="spare", name="Spare", currency="EUR",
                                       created_at=clock.now())
    assert 'data-testid="delete-group"' in client.get(reverse("inventory:group_detail", args=[empty.pk])).content.decode()
    response = client.post(reverse("inventory:group_delete", args=[empty.pk]))
    assert response.url == reverse("inventory:group_list") and not NumberGroup.objects.filter(pk=empty.pk).exists()
    event = AuditEvent.objects.get(object_type="inventory.numbergroup", object_id=str(empty.pk), action="delete")
    assert event.changes["code"] == ["spare", None] and event.actor_user.username == "cleo"
