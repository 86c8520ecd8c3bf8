"""A CSR changes a plan from the customer account in a real Chromium; a back-office user (another login) opens
the network desk, claims and completes "Change at the host operator"; the order completes and its page's
diagram (bpmn-js viewer) marks the path it took.

The shipped mobile plan-change flow gets that network desk step from the standard-flows work of issue 13;
until the shipped src/telora/orders/flows/change_plan.bpmn has it, the test publishes the brand's own version of
the flow with the step (a brand's own flow wins for that brand), so it runs either way.
"""

import pytest
from django.apps import apps

from browser_helpers import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not apps.is_installed("telora.workflows"), reason="needs the workflow engine")]

DESK_STEP = "Change at the host operator"
CHANGE_PLAN_WITH_DESK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:telora="https://telora.org/bpmn"
    id="defs_change_plan" targetNamespace="https://telora.org/flows">
  <bpmn:process id="change_plan" name="Change: plan" isExecutable="true">
    <bpmn:startEvent id="start" name="Order started"/>
    <bpmn:serviceTask id="do_change_plan" name="Change the plan" telora:task="customers.change_plan">
      <bpmn:extensionElements>
        <telora:input name="order_id" expression="order_id"/>
        <telora:input name="item" expression="item"/>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:userTask id="host_change" name="Change at the host operator" telora:desk="network">
      <bpmn:extensionElements>
        <telora:field name="host_reference" label="Host reference" type="text" required="true"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="end" name="Order completed"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="do_change_plan"/>
    <bpmn:sequenceFlow id="f2" sourceRef="do_change_plan" targetRef="host_change"/>
    <bpmn:sequenceFlow id="f3" sourceRef="host_change" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def flows(shop, system):
    """The brand's desks and the standard flows; the plan change with its network desk step."""
    from telora.core import clock
    from telora.orders.flows import FLOW_DIR, standard_flows
    from telora.workflows.services import create_desk, load_flows, publish_flow

    for code in ("credit", "network", "qualification", "installation", "logistics", "retention", "porting"):
        create_desk(shop, code, code.title(), actor=system, at=clock.now())
    load_flows(FLOW_DIR, actor=system, at=clock.now())
    if DESK_STEP not in standard_flows()["change_plan"].read_text():
        publish_flow("change_plan", CHANGE_PLAN_WITH_DESK, brand=shop, actor=system, at=clock.now())


def test_a_plan_change_waits_at_the_network_desk_and_completes(live_server, chromium_page, plain_http_cookies,
                                                              make_user, shop, ann, mobile, flows):
    from django.urls import reverse
    from playwright.sync_api import expect

    from telora.customers.models import ProductInstance
    from telora.orders.models import Order
    from telora.workflows.models import FlowStep

    make_user("csr", {shop: ["customers.view", "customers.change", "orders.view"]}, password=PASSWORD)
    make_user("backoffice", {shop: ["customers.view", "customers.change", "orders.view", "workflows.view",
                                    "workflows.work"]}, password=PASSWORD)
    page = chromium_page

    # The CSR changes the plan from the customer's account.
    log_in(page, live_server, "csr")
    page.goto(f"{live_server.url}{reverse('customers:customer_detail', args=[ann.pk])}")
    page.goto(f"{live_server.url}{reverse('customers:subscription_detail', args=[mobile.pk])}")
    page.click("[data-testid=change-plan]")
    page.click("[data-testid=offer-MOB_POST_10GB]")
    page.click("[data-testid=submit]")
    order = Order.objects.get(customer=ann, order_type="change_plan")
    expect(page.locator("[data-testid=messages]")).to_contain_text(order.number)
    assert order.state == "inProgress"
    page.goto(f"{live_server.url}{reverse('customers:customer_detail', args=[ann.pk])}?tab=orders")
    expect(page.locator("[data-testid=customer-order][data-state=inProgress]")).to_contain_text(order.number)
    page.context.clear_cookies()

    # The back office works the network desk: claim, then complete with the host operator's reference.
    log_in(page, live_server, "backoffice")
    page.click("[data-testid=main-menu] [data-area=workflows] a")
    page.locator("[data-testid=desk-row][data-desk=network] a").click()
    row = page.locator("[data-testid=task-row]", has_text=DESK_STEP)
    expect(row).to_contain_text(order.number)
    row.locator("a").first.click()
    expect(page.locator("[data-testid=subject]")).to_contain_text(order.number)
    page.click("[data-testid=claim]")
    page.fill("input[name=host_reference]", "HOST-4711")
    page.click("[data-testid=complete]")
    expect(page.locator("[data-testid=messages]")).to_contain_text("Task completed")
    expect(page.locator("[data-testid=task-row]", has_text=order.number)).to_have_count(0)

    order.refresh_from_db()
    assert order.state == "completed"
    assert ProductInstance.objects.get(subscription=mobile, kind="plan", end_at__isnull=True).product.code == \
        "MOB_POST_10GB"

    # The order's page: completed, its step log names the desk step and who did it, the diagram marks the path.
    page.goto(f"{live_server.url}{reverse('orders:order_detail', args=[order.pk])}")
    expect(page.locator("[data-testid=order-summary] [data-state=completed]")).to_be_visible()
    expect(page.locator("[data-testid=order-steps]")).to_contain_text(DESK_STEP)
    expect(page.locator("[data-testid=order-steps]")).to_contain_text("backoffice")
    diagram = page.locator("[data-testid=order-flow-diagram]")
    expect(diagram).to_have_attribute("data-marked", "true")
    desk_element = FlowStep.objects.get(instance_id=order.flow_instance_id, kind="user").element
    for element in ("do_change_plan", desk_element, "end"):
        expect(diagram.locator(f".djs-element.telora-done[data-element-id={element}]")).to_have_count(1)
    expect(diagram.locator(".djs-element.telora-current")).to_have_count(0)
