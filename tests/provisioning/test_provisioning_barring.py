"""Barring from balance and from orders: a prepaid line rated to zero is barred for outgoing chargeable
services and unbarred by a top-up that lifts it over the level (not by one that does not); replayed events
change nothing; reasons (balance, order) are tracked apart and the network is unbarred only when none is
left; the brand's settings on screen, with rights and brand isolation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from barring_helpers import consume, prepaid_line, rate_usage
from provisioning_helpers import configure

from gui_helpers import login
from telora.core import clock
from telora.core.services import ServiceError
from telora.provisioning import barring, services
from telora.provisioning.models import BarringSettings, LineBar, ProvisioningRequest

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def line(ann, system):
    configure(ann.brand, system, adapter="manual", url="")
    return prepaid_line(ann, system, balance="2.00")


def send():
    """The worker's turn: the manual adapter leaves each request `sent`, waiting for the network desk."""
    return services.send_due(at=clock.now())


def requests_of(line):
    return list(ProvisioningRequest.objects.filter(subscription=line).order_by("id"))


def top_up(line, amount, system):
    from telora.rating.services.balances import top_up as rating_top_up

    return rating_top_up(line, D(amount), actor=system, at=clock.now(), reference="voucher")


def test_a_prepaid_line_rated_to_zero_is_barred_and_a_top_up_unbars_it(line, system):
    rate_usage(line, system, "0.50", "1.50", "0.30")  # 2.00 -> -0.30: the zero crossing in one batch
    assert consume() >= 1
    send()
    [bar] = LineBar.objects.filter(subscription=line)
    assert (bar.reason, bar.open, bar.balance) == ("balance", True, D("-0.30"))
    assert bar.services == ["data", "premium", "roaming", "sms_out", "voice_out"]  # outgoing chargeable
    [request] = requests_of(line)
    assert (request.operation, request.state, request.payload["msisdn"]) == ("bar", "sent", line.identifier)
    assert request.payload["barring"] == bar.services and request.payload["reasons"] == ["balance"]
    assert bar.bar_request == request

    top_up(line, "10.00", system)
    consume()
    bar.refresh_from_db()
    assert not bar.open and bar.ended_by.startswith("event:")
    bar_request, unbar = requests_of(line)
    assert unbar.operation == "unbar" and bar.end_request == unbar


def test_replayed_events_bar_once(line, system):
    from telora.events.models import Event

    rate_usage(line, system, "2.50")
    consume()
    consume()
    zero = Event.objects.get(type="balance.zero", subject_id=str(line.pk))
    barring.on_event(zero)  # handed over again (at least once)
    barring.on_event(zero)
    assert LineBar.objects.filter(subscription=line).count() == 1
    assert [r.operation for r in requests_of(line)] == ["bar"]
    rate_usage(line, system, "1.00")  # further below zero: no new crossing, no new bar
    consume()
    assert [r.operation for r in requests_of(line)] == ["bar"]


def test_a_top_up_that_leaves_the_balance_at_or_below_zero_does_not_unbar(line, system):
    rate_usage(line, system, "5.00")  # -3.00
    consume()
    send()
    top_up(line, "3.00", system)  # exactly 0: still out of balance
    consume()
    assert LineBar.objects.get(subscription=line).open
    assert [r.operation for r in requests_of(line)] == ["bar"]
    top_up(line, "0.01", system)
    consume()
    assert not LineBar.objects.get(subscription=line).open
    assert [r.operation for r in requests_of(line)] == ["bar", "unbar"]


def test_a_zero_event_consumed_after_the_top_up_bars_nothing(line, system):
    rate_usage(line, system, "2.00")
    top_up(line, "5.00", system)  # before the consumer ran
    consume()
    assert not LineBar.objects.filter(subscription=line).exists() and requests_of(line) == []


def test_an_adjustment_back_over_zero_unbars_and_one_down_to_zero_bars(line, system):
    from telora.rating.services.balances import adjust

    adjust(line, D("-2.00"), actor=system, at=clock.now(), reference="goodwill taken back")  # 2.00 -> 0
    consume()
    send()
    assert LineBar.objects.get(subscription=line).open
    adjust(line, D("1.00"), actor=system, at=clock.now(), reference="goodwill")
    consume()
    assert not LineBar.objects.get(subscription=line).open
    assert [r.operation for r in requests_of(line)] == ["bar", "unbar"]


def test_an_unbar_before_the_bar_was_sent_cancels_the_bar_instead(line, system):
    rate_usage(line, system, "3.00")
    consume()
    [request] = requests_of(line)
    ProvisioningRequest.objects.filter(pk=request.pk).update(state="queued", tries=0)  # not sent yet
    top_up(line, "5.00", system)
    consume()
    request.refresh_from_db()
    assert request.state == "cancelled" and [r.operation for r in requests_of(line)] == ["bar"]


def test_balance_and_order_reasons_overlap_and_the_line_is_unbarred_only_when_both_ended(line, system):
    rate_usage(line, system, "3.00")
    consume()  # balance: outgoing chargeable
    send()
    order_bar = barring.bar_line(line, reason="order", started_by="order:1", actor=system, at=clock.now())
    assert order_bar.services == ["all"]
    widen = order_bar.bar_request
    assert (widen.operation, widen.payload["barring"], widen.payload["reasons"]) == ("bar", ["all"],
                                                                                     ["balance", "order"])
    top_up(line, "10.00", system)
    consume()  # the balance reason ends; the order still bars everything: nothing new for the network
    assert [r.operation for r in requests_of(line)] == ["bar", "bar"]
    assert [b.reason for b in barring.open_bars(line)] == ["order"]
    ended = barring.unbar_line(line, reason="order", ended_by="order:2", actor=system, at=clock.now())
    assert ended.end_request.operation == "unbar"
    assert barring.open_bars(line) == []


def test_the_end_of_a_wider_reason_narrows_the_bar_to_the_one_left(line, system):
    barring.bar_line(line, reason="order", started_by="order:1", actor=system, at=clock.now())
    rate_usage(line, system, "3.00")
    consume()  # the balance bar adds nothing to "all"
    balance_bar = LineBar.objects.get(subscription=line, reason="balance")
    assert balance_bar.bar_request is None
    ended = barring.unbar_line(line, reason="order", ended_by="order:2", actor=system, at=clock.now())
    narrow = ended.end_request
    assert (narrow.operation, narrow.payload["barring"]) == ("bar", balance_bar.services)
    assert narrow.payload["reasons"] == ["balance"]


def test_bar_at_the_low_balance_threshold_and_off(line, ann, system):
    barring.update_barring_settings(ann.brand, bar_at="low", scope="all", grace="0.50", actor=system,
                                    at=clock.now())
    rate_usage(line, system, "0.10")  # 2.00 -> 1.90, below the brand's low threshold (5.00)
    consume()
    bar = LineBar.objects.get(subscription=line)
    assert bar.services == ["all"] and requests_of(line)[0].payload["barring"] == ["all"]
    top_up(line, "3.00", system)  # 4.90: still at or below 5.00
    consume()
    assert bar.open
    barring.update_barring_settings(ann.brand, bar_at="off", scope="all", actor=system, at=clock.now())
    top_up(line, "0.05", system)  # barring from balance off: the bar it made ends at the next event
    consume()
    bar.refresh_from_db()
    assert not bar.open


def test_usage_in_flight_is_rated_and_counted_against_the_grace(line, ann, system):
    barring.update_barring_settings(ann.brand, bar_at="zero", scope="outgoing", services="voice_out data",
                                    grace="1.00", actor=system, at=clock.now())
    rate_usage(line, system, "2.00")  # to zero
    consume()
    bar = LineBar.objects.get(subscription=line)
    rate_usage(line, system, "0.60", "0.60")  # in flight: -0.60 (within the grace), -1.20 (beyond it)
    figures = barring.in_flight(bar, D("1.00"))
    assert (figures["records"], figures["amount"], figures["beyond_grace"]) == (3, D("3.20"), 1)
    assert figures["after_bar"] == 0  # the bar is not confirmed yet
    services.complete_by_hand(bar.bar_request, reference="HOST-9", actor=system, at=clock.now())
    import datetime as dt

    rate_usage(line, system, "0.10", start=clock.now() + dt.timedelta(minutes=5))  # after the bar: a leak
    assert barring.in_flight(bar, D("1.00"))["after_bar"] == 1


def test_a_terminated_line_closes_its_bars_without_unbarring(line, system):
    from telora.customers.services import terminate_subscription

    rate_usage(line, system, "3.00")
    consume()
    terminate_subscription(line, actor=system, at=clock.now(), reason="moved abroad")
    consume()
    assert barring.open_bars(line) == [] and [r.operation for r in requests_of(line)] == ["bar"]


def test_the_sweep_unbars_a_line_whose_balance_came_back_without_an_event(line, system):
    from telora.rating.models import PrepaidBalance

    rate_usage(line, system, "3.00")
    consume()
    send()
    PrepaidBalance.objects.filter(subscription=line).update(balance=D("4.00"))  # a re-rate gave it back
    assert barring.sweep(at=clock.now()) == 1
    assert barring.sweep(at=clock.now()) == 0
    assert [r.operation for r in requests_of(line)] == ["bar", "unbar"]


def test_settings_are_checked_and_name_the_field(brand_a, system):
    cases = [({"bar_at": "never"}, "bar_at"), ({"scope": "most"}, "scope"), ({"grace": "-1"}, "grace"),
             ({"grace": "0.1234567"}, "grace"), ({"grace": "abc"}, "grace"), ({"services": "Voice Out"}, "services"),
             ({"services": ""}, "services"), ({"target_code": ""}, "target_code")]
    for change, field in cases:
        values = {"bar_at": "zero", "scope": "outgoing", "services": "voice_out", "grace": "0", **change}
        with pytest.raises(ServiceError) as error:
            barring.update_barring_settings(brand_a, actor=system, at=clock.now(), **values)
        assert error.value.field == field, change
    saved = barring.update_barring_settings(brand_a, bar_at="zero", scope="outgoing", services="voice_out, sms_out",
                                            grace="2.5", actor=system, at=clock.now())
    assert (saved.services, saved.grace, saved.barred_services()) == (["sms_out", "voice_out"], D("2.5"),
                                                                      ["sms_out", "voice_out"])
    from telora.core.models import AuditEvent

    assert AuditEvent.objects.filter(object_type="provisioning.barringsettings").count() == 1


def test_the_settings_page_needs_rights_and_shows_the_active_brand_only(make_user, brand_a, brand_b, system):
    barring.update_barring_settings(brand_b, bar_at="low", scope="all", grace="7", actor=system, at=clock.now())
    viewer = login(make_user("vic", {brand_a: ["provisioning.view"]}), brand_a)
    page = viewer.get("/provisioning/barring/")
    assert page.status_code == 200 and page.context["settings"].bar_at == "zero"  # alpha's defaults, not bravo's
    assert viewer.post("/provisioning/barring/", {"bar_at": "low"}).status_code == 403
    assert login(make_user("oli", {brand_a: ["orders.view"]}), brand_a).get("/provisioning/barring/").status_code == 403
    admin = login(make_user("ada", {brand_a: ["provisioning.view", "provisioning.change"]}), brand_a)
    form = {"bar_at": "zero", "scope": "outgoing", "services": "voice_out sms_out data", "grace": "1.50",
            "target_code": "network"}
    refused = admin.post("/provisioning/barring/", {**form, "grace": "-1"})
    assert refused.status_code == 200 and "grace" in refused.context["form"].errors
    assert admin.post("/provisioning/barring/", form).status_code == 302
    assert BarringSettings.objects.get(brand=brand_a).grace == D("1.50")
    assert BarringSettings.objects.get(brand=brand_b).grace == D("7")


def test_the_customer_page_shows_the_lines_bars_to_those_who_may_see_them(make_user, line, ann, brand_b, system):
    rate_usage(line, system, "3.00")
    consume()
    reader = login(make_user("ria", {ann.brand: ["customers.view", "provisioning.view"]}), ann.brand)
    page = reader.get(f"/customers/{ann.pk}/", {"tab": "provisioning"}).content.decode()
    assert 'data-testid="line-bars"' in page and "balance" in page and line.identifier in page
    listed = reader.get("/provisioning/barring/")
    assert [bar.subscription_id for bar in listed.context["bars"]] == [line.pk]
    assert line.identifier in listed.content.decode()
    outsider_list = login(make_user("bea", {brand_b: ["provisioning.view"]}), brand_b).get("/provisioning/barring/")
    assert list(outsider_list.context["bars"]) == [] and line.identifier not in outsider_list.content.decode()
    outsider = login(make_user("bob", {brand_b: ["customers.view", "provisioning.view"]}), brand_b)
    assert outsider.get(f"/customers/{ann.pk}/", {"tab": "provisioning"}).status_code == 404


def test_a_cancelled_suspension_ends_its_reason(ann, system, flows_loaded):
    from telora.orders.services import cancel_order, create_order
    from telora.provisioning.flows import install_automatic_flows

    configure(ann.brand, system)  # mvne_json: the automatic flows may be installed
    install_automatic_flows(ann.brand, actor=system, at=clock.now())
    line = prepaid_line(ann, system, balance="5.00")
    order = create_order(ann, actor=system, at=clock.now(), order_type="suspend", subscription=line,
                         items=[{"characteristics": {"reason": "travel"}}])
    bar = LineBar.objects.get(subscription=line, reason="order")
    assert bar.open and bar.bar_request.state == "queued" and bar.bar_request.flow_instance_id is not None
    cancel_order(order, actor=system, at=clock.now(), reason="changed her mind")
    bar.refresh_from_db()
    assert not bar.open and bar.ended_by == f"order:{order.pk}:cancelled"
    assert bar.bar_request.state == "cancelled" and bar.end_request is None  # never sent: nothing to undo
    line.refresh_from_db()
    assert line.status == "active"


def test_a_brand_that_runs_no_provisioning_bars_nothing(line, ann, system):
    from telora.core import modules
    from telora.core.services.brands import update_brand

    update_brand(ann.brand, actor=system, at=clock.now(), modules_off=["provisioning"])
    modules.forget()  # the service forgets on commit; the test's transaction never commits
    rate_usage(line, system, "3.00")
    consume()
    assert not LineBar.objects.filter(subscription=line).exists() and requests_of(line) == []
