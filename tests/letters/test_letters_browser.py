"""A letters manager in a real Chromium edits the low-balance SMS template and previews it; usage
rated through the rating pipeline takes a prepaid line under its threshold; the events consumer
queues the SMS from the edited template, the sending job hands it over SMPP to the SMSC simulator
(started by the test) and its delivery receipt comes back; the manager finds it in the outbox and on
the customer's Letters tab.

Uses Debian's Chromium (not Playwright's download). Skipped when it is missing, unless
TELORA_REQUIRE_BROWSER=1 (as in CI), where a missing browser is a failure.
"""

import datetime as dt
from decimal import Decimal

import pytest
from letters_helpers import make_customer

from browser_helpers import PASSWORD, log_in
from telora.core import clock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EDITED = ("{{ brand.name }}: only {{ balance.amount|money(balance.currency, customer.language) }} left on "
          "{{ subscription.identifier }}. Top up at alpha.example/topup")


def _prepaid_customer(shop, system):
    from telora.customers import services as s
    from telora.rating.services.balances import top_up

    customer = make_customer(shop, system, first="Pieter", last="Prepaid", email="pieter@example.com",
                             phone="06 2345 6789")
    line = s.create_subscription(customer, actor=system, at=clock.now(), billing_account=customer.accounts.get(),
                                 service_type="mobile_prepaid", plan="MOB_PRE")
    top_up(line, Decimal("6.00"), actor=system, at=clock.now(), reference="voucher")  # the threshold is 5.00
    return customer, line


def _rate_a_call(shop, line, system) -> None:
    """Five minutes to a Danish landline at 0.49 a minute, taken in and rated as a mediation file is."""
    from telora.customers.models import NumberAssignment
    from telora.rating.models import FailedRecord
    from telora.rating.services import import_usage_file, rate_pending

    number, held_from = NumberAssignment.objects.filter(subscription=line).values_list("number", "valid_from").get()
    start = (held_from + dt.timedelta(seconds=2)).replace(microsecond=0).isoformat()
    data = ("record_id,service,a_number,b_number,start_time,duration,volume,quantity,location,charge\n"
            f"call-1,voice,{number},4533123456,{start},300,,,,\n").encode()
    import_usage_file(shop, data, format="csv", source="msc", actor=system, at=clock.now(), name="calls.csv")
    rate_pending(shop)
    assert not FailedRecord.objects.filter(brand=shop).exists(), list(FailedRecord.objects.values("reason", "detail"))


def test_an_edited_low_balance_sms_goes_out_when_rating_takes_a_prepaid_line_low(
        live_server, chromium_page, plain_http_cookies, make_user, shop, smsc, system):
    from playwright.sync_api import expect

    from telora.events.models import Event
    from telora.events.services.dispatch import dispatch_all
    from telora.letters.models import Letter, LetterTemplate
    from telora.letters.services.outbox import collect_receipts, send_due
    from telora.rating.services.balances import balance_of

    customer, line = _prepaid_customer(shop, system)
    make_user("letters-manager", {shop: ["letters.view", "letters.change", "letters.send", "customers.view"]},
              password=PASSWORD)
    page = chromium_page
    log_in(page, live_server, "letters-manager")

    # Edit the low-balance SMS: start from the active version, preview it, save a new version.
    page.goto(f"{live_server.url}/letters/templates/")
    row = page.locator("[data-testid=templates] tr", has_text="balance-low").filter(has_text="sms")
    row.get_by_role("link", name="Edit").click()
    form = page.locator("[data-testid=template-form]")
    form.locator("textarea[name=text]").fill(EDITED)
    form.locator("[data-testid=preview]").click()
    expect(page.locator("[data-testid=template-preview]")).to_contain_text("Top up at alpha.example/topup")
    expect(page.locator("[data-testid=template-preview]")).to_contain_text("Alpha Mobile: only")
    page.locator("[data-testid=template-form] [data-testid=submit]").click()
    expect(page.locator("[data-testid=messages]")).to_contain_text("Saved as version 2")
    active = LetterTemplate.objects.get(brand=shop, code="balance-low", channel="sms", active=True)
    assert active.version == 2 and active.text == EDITED

    # Usage rated through the pipeline takes the line from 6.00 to 3.55: balance.low, then the letter.
    _rate_a_call(shop, line, system)
    assert balance_of(line) == Decimal("3.55")
    low = Event.objects.get(type="balance.low", subject_id=str(line.pk))
    dispatch_all()  # what the worker's dispatch job does
    sms = Letter.objects.get(customer=customer, channel="sms")
    assert sms.template_id == active.pk and sms.event_id == str(low.pk)
    assert sms.text.endswith("Top up at alpha.example/topup") and "3.55" in sms.text
    assert sms.recipient == "31623456789"

    # The sending job hands it to the SMSC over SMPP; the delivery receipt makes it delivered.
    assert send_due("sms")["sent"] == 1
    sms.refresh_from_db()
    if sms.state == "sent":
        collect_receipts(seconds=5.0)
        sms.refresh_from_db()
    assert sms.state == "delivered"
    (received,) = [m for m in smsc.messages if m.destination == "31623456789"]
    assert received.text == sms.text

    page.goto(f"{live_server.url}/letters/?channel=sms")
    outbox_row = page.locator("[data-testid=outbox] tr[data-state=delivered]", has_text=customer.number)
    expect(outbox_row).to_contain_text("31623456789")
    outbox_row.get_by_role("link", name=str(sms.pk)).click()
    expect(page.locator("[data-testid=letter-text]")).to_contain_text("Top up at alpha.example/topup")
    expect(page.locator("[data-testid=letter-log]")).to_contain_text("receipt DELIVRD")

    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    letters = page.locator("[data-testid=customer-letters]")
    expect(letters.locator("tr", has_text="Top up at alpha.example")).to_contain_text("delivered")
