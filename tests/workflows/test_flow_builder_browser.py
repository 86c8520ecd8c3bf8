"""A flow designer in a real Chromium opens the sign-up flow in the flow builder, inserts a desk step with
the side form, saves and publishes it; the next sign-up order waits at that desk while an order that
was already running finishes on the version it started with.

Uses Debian's Chromium (not Playwright's download). Skipped when it is missing, unless
TELORA_REQUIRE_BROWSER=1 (as in CI), where a missing browser is a failure.
"""

import importlib.util
from pathlib import Path

import pytest

from browser_helpers import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKS = ("credit", "network", "qualification", "installation", "logistics", "retention", "porting")
SIGNUP = [{"product_offering": "MOB_POST_BASIC", "characteristics": {"service_type": "mobile_postpaid"}}]


def _orders_fixtures():
    """The orders tests' shop and customer builders (tests/orders/conftest.py is no importable package)."""
    spec = importlib.util.spec_from_file_location("orders_test_fixtures",
                                                  Path(__file__).resolve().parents[1] / "orders" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def signup_shop(brand_a, system):
    """Brand A with the demo catalogue, SIMs and numbers, a customer, the desks and the standard flows."""
    from telora.core import clock
    from telora.orders.flows import FLOW_DIR
    from telora.workflows.services import create_desk, load_flows

    fixtures = _orders_fixtures()
    shop = fixtures._shop(brand_a, system, ("+31 6 10000001", "+31 6 10000002"), "8931440400", 0)
    customer = fixtures._customer(shop, system, "Ann")
    for code in (*DESKS, "documents"):
        create_desk(brand_a, code, "Documents" if code == "documents" else code.title(), actor=system,
                    at=clock.now())
    load_flows(FLOW_DIR, actor=system, at=clock.now())
    return customer


def click_connection(page, element_id):
    """Click the middle of a drawn sequence flow (its box's centre may lie on another flow)."""
    point = page.evaluate("""id => {
        const path = document.querySelector(`[data-element-id="${id}"] .djs-hit`);
        const p = path.getPointAtLength(path.getTotalLength() / 2);
        const screen = new DOMPoint(p.x, p.y).matrixTransform(path.getScreenCTM());
        return {x: screen.x, y: screen.y};
    }""", element_id)
    page.mouse.click(point["x"], point["y"])


def _open_task(order):
    from telora.workflows.models import HumanTask

    return HumanTask.objects.select_related("desk").get(instance_id=order.flow_instance_id, state="open")


def test_a_desk_step_added_in_the_builder_is_followed_by_the_next_order_only(
        live_server, chromium_page, plain_http_cookies, make_user, brand_a, signup_shop, system):
    from playwright.sync_api import expect

    from telora.core import clock
    from telora.orders.models import Order
    from telora.orders.services import create_order
    from telora.workflows.models import FlowInstance, FlowVersion
    from telora.workflows.services import complete_task

    standard = FlowVersion.objects.get(definition__key="signup_mobile_postpaid", definition__brand__isnull=True)
    older = create_order(signup_shop, actor=system, at=clock.now(), order_type="sign_up", items=SIGNUP)
    assert _open_task(older).desk.code == "credit"

    make_user("designer", {brand_a: ["workflows.view", "workflows.change"]}, password=PASSWORD)
    page = chromium_page
    log_in(page, live_server, "designer")
    page.goto(f"{live_server.url}/workflows/flows/")
    page.locator("[data-testid=flow-signup_mobile_postpaid-standard]").get_by_role("link", name="v1").click()
    page.locator("[data-testid=open-builder]").click()
    expect(page.locator("[data-testid=builder-canvas]")).to_have_attribute("data-ready", "true")
    expect(page.locator("[data-testid=builder-target]")).to_contain_text("Alpha")

    page.locator("[data-testid=builder-canvas] [data-element-id=start]").click()
    page.locator("[data-testid=insert-desk-step]").click()
    side = page.locator("[data-testid=builder-side]")
    expect(side.locator("h4")).to_have_text("UserTask")
    side.locator("input[name=element_id]").fill("check_documents")
    side.locator("input[name=element_id]").press("Tab")
    side.locator("input[name=name]").fill("Check the documents")
    side.locator("input[name=name]").press("Tab")
    side.locator("select[name=desk]").select_option("documents")
    side.locator("[data-testid=add-field]").click()
    side.locator("[data-field='0'] input[name=field_name]").fill("documents_ok")
    side.locator("[data-field='0'] select[name=field_type]").select_option("checkbox")
    expect(page.locator("[data-testid=builder-canvas] [data-element-id=check_documents]")).to_be_visible()

    page.locator("[data-testid=builder-save]").click()
    expect(page.locator("[data-testid=saved]")).to_contain_text("(draft)")
    draft = FlowVersion.objects.get(definition__key="signup_mobile_postpaid", definition__brand=brand_a)
    assert draft.state == "draft"
    assert draft.extensions["check_documents"]["desk"] == "documents"
    assert [f["name"] for f in draft.extensions["check_documents"]["fields"]] == ["documents_ok"]
    page.locator("[data-testid=publish-saved]").click()
    expect(page.locator("[data-testid=messages]")).to_contain_text("is published")
    expect(page.locator("[data-testid=version-state]")).to_have_text("published")

    page.locator("[data-testid=compare-form] select[name=old]").select_option(str(standard.pk))
    page.locator("[data-testid=compare-form] button").click()
    expect(page.locator("[data-testid=diff-added-check_documents]")).to_contain_text("documents")
    expect(page.locator("[data-testid=diff-changed-start-next]")).to_contain_text("check_documents")

    # the documentation page draws the published version and offers the drawing as SVG
    page.goto(f"{live_server.url}/workflows/flows/{draft.definition_id}/doc/")
    expect(page.locator("[data-testid=bpmn-canvas]")).to_have_attribute("data-ready", "true")
    expect(page.locator("[data-testid=doc-step-check_documents]")).to_contain_text("documents")
    with page.expect_download() as download:
        page.locator("[data-testid=download-svg]").click()
    assert download.value.suggested_filename == "signup_mobile_postpaid.svg"
    assert "Check the" in Path(download.value.path()).read_text()  # the label, wrapped over two lines

    newer = create_order(signup_shop, actor=system, at=clock.now(), order_type="sign_up", items=SIGNUP)
    task = _open_task(newer)
    assert (task.desk.code, task.element, task.instance.version_id) == ("documents", "check_documents", draft.pk)

    # the order that was running before the change finishes on the standard version, without the new step
    complete_task(_open_task(older), data={"decision": "approved"}, actor=system, at=clock.now())
    complete_task(_open_task(older), data={"host_reference": "HOST-1"}, actor=system, at=clock.now())
    older = Order.objects.get(pk=older.pk)
    assert older.state == "completed"
    instance = FlowInstance.objects.get(pk=older.flow_instance_id)
    assert (instance.state, instance.version_id) == ("completed", standard.pk)
    assert not instance.step_log.filter(element="check_documents").exists()


def test_the_side_form_edits_service_tasks_conditions_and_timers_and_shows_refusals(
        live_server, chromium_page, plain_http_cookies, make_user, brand_a, flow):
    from playwright.sync_api import expect

    from telora.workflows.diff import flow_steps
    from telora.workflows.models import FlowVersion

    make_user("designer", {brand_a: ["workflows.view", "workflows.change"]}, password=PASSWORD)
    page = chromium_page
    log_in(page, live_server, "designer")
    page.goto(f"{live_server.url}/workflows/versions/{flow.pk}/edit/")
    canvas = page.locator("[data-testid=builder-canvas]")
    side = page.locator("[data-testid=builder-side]")
    expect(canvas).to_have_attribute("data-ready", "true")

    # the service task: another registered task, its declared input mapped
    canvas.locator("[data-element-id=activate]").click()
    side.locator("select[name=service_task]").select_option("example.reserve")
    side.locator("input[name=input-amount]").fill("amount + 1")
    side.locator("input[name=input-amount]").press("Tab")
    side.locator("input[name=output-reservation]").fill("second_reservation")
    side.locator("input[name=output-reservation]").press("Tab")
    # the escalation timer
    canvas.locator("[data-element-id=approve_late]").click()
    expect(side.locator("input[name=timer_value]")).to_have_value("PT2H")
    side.locator("input[name=timer_value]").fill("PT3H")
    side.locator("input[name=timer_value]").press("Tab")
    # a condition the sandbox refuses: not saved, the problem names the flow and outlines it
    click_connection(page, "f_big")
    side.locator("textarea[name=condition]").fill("amount.__class__")
    side.locator("textarea[name=condition]").press("Tab")
    page.locator("[data-testid=builder-save]").click()
    problem = page.locator("[data-testid=builder-problems] li[data-element=f_big]")
    expect(problem).to_contain_text("condition")
    expect(canvas.locator("[data-element-id=f_big].telora-problem").first).to_be_attached()
    assert FlowVersion.objects.count() == 1

    problem.click()  # selects the flow in the diagram
    expect(side.locator("textarea[name=condition]")).to_have_value("amount.__class__")
    side.locator("textarea[name=condition]").fill("amount > 500")
    side.locator("textarea[name=condition]").press("Tab")
    page.locator("[data-testid=builder-save]").click()
    expect(page.locator("[data-testid=saved]")).to_contain_text("(draft)")
    own = FlowVersion.objects.get(definition__brand=brand_a)
    steps = flow_steps(own.bpmn_xml)
    assert steps["activate"].service_task == "example.reserve"
    assert steps["activate"].inputs == (("amount", "amount + 1"),)
    assert steps["activate"].outputs == (("reservation", "second_reservation"),)
    assert steps["big"].conditions == (("approve", "amount > 500"),)
    assert steps["approve"].timers == ('approve_late: "PT3H"',)
    assert steps["approve"].fields == flow_steps(flow.bpmn_xml)["approve"].fields  # untouched parts survive

    page.locator("[data-testid=saved-diff]").click()
    expect(page.locator("[data-testid=diff-changed-activate-service_task]")).to_contain_text("example.reserve")
    expect(page.locator("[data-testid=diff-changed-big-conditions]")).to_contain_text("amount > 500")


def test_desks_by_lanes_a_user_task_moved_into_a_lane_takes_its_desk(
        live_server, chromium_page, plain_http_cookies, make_user, brand_a, desks, system):
    """The side form edits a lane's desk; a user task dragged into another lane drops its own desk for that
    lane's, and the saved draft runs it at that desk."""
    from playwright.sync_api import expect
    from workflow_samples import LANES_FLOW

    from telora.core import clock
    from telora.workflows.models import FlowVersion
    from telora.workflows.services import publish_flow

    version = publish_flow("lanes_example", LANES_FLOW, actor=system, at=clock.now())
    make_user("designer", {brand_a: ["workflows.view", "workflows.change"]}, password=PASSWORD)
    page = chromium_page
    log_in(page, live_server, "designer")
    page.goto(f"{live_server.url}/workflows/versions/{version.pk}/edit/")
    canvas = page.locator("[data-testid=builder-canvas]")
    side = page.locator("[data-testid=builder-side]")
    expect(canvas).to_have_attribute("data-ready", "true")

    canvas.locator("[data-element-id=lane_sup]").click(position={"x": 12, "y": 60})
    expect(side.locator("h4")).to_have_text("Lane")
    expect(side.locator("select[name=lane_desk]")).to_have_value("supervisors")

    review = canvas.locator("[data-element-id=review]")
    review.click()
    expect(side.locator("select[name=desk]")).to_have_value("")
    expect(side.locator("select[name=desk] option[value='']")).to_have_text("— the lane's desk: backoffice —")
    side.locator("select[name=desk]").select_option("backoffice")  # its own desk, as if chosen before
    lane_box = canvas.locator("[data-element-id=lane_sup]").bounding_box()
    box = review.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 20, lane_box["y"] + lane_box["height"] / 2, steps=12)
    page.mouse.up()
    review.click()
    expect(side.locator("select[name=desk]")).to_have_value("")
    expect(side.locator("select[name=desk] option[value='']")).to_have_text("— the lane's desk: supervisors —")

    page.locator("[data-testid=builder-save]").click()
    expect(page.locator("[data-testid=saved]")).to_contain_text("(draft)")
    draft = FlowVersion.objects.get(definition__key="lanes_example", definition__brand=brand_a)
    assert draft.extensions["review"]["desk"] == "supervisors"
    assert draft.extensions["sign_off"]["desk"] == "backoffice"  # its own desk, untouched
