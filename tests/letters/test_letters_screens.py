"""The Letters screens and TMF681: what each right allows, and brand B never sees or changes brand A's
letters, templates, triggers or print batches (404), on every screen and endpoint."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gui_helpers import login
from telora.core import clock
from telora.letters.models import Letter, LetterTemplate, PrintBatch, Trigger
from telora.letters.services import make_batch, queue_letter

pytestmark = pytest.mark.usefixtures("shop_kept")

VIEW = ["letters.view", "customers.view"]
ALL = ["letters.view", "letters.change", "letters.send", "customers.view"]

BASE681 = "/tmf-api/communicationManagement/v4/communicationMessage"


@pytest.fixture
def letter(ann, system):
    return queue_letter(ann.brand, actor=system, at=clock.now(), key="w", customer=ann, template_code="welcome",
                        channel="email")


@pytest.fixture
def printed(ann, system):
    return queue_letter(ann.brand, actor=system, at=clock.now(), key="p", customer=ann, channel="print",
                        parts={"subject": "Notice", "html": "<p>Dear {{ customer.name }}</p>"})


def test_outbox_filters_and_the_letter_page(ann, letter, make_user):
    client = login(make_user("reader", {ann.brand: VIEW}), ann.brand)
    page = client.get(reverse("letters:outbox"), {"state": "queued", "channel": "email"})
    assert page.status_code == 200 and f'href="/letters/{letter.pk}/"' in page.content.decode()
    assert client.get(reverse("letters:outbox"), {"state": "failed"}).context["object_list"].count() == 0
    detail = client.get(reverse("letters:letter", args=[letter.pk]))
    assert "Welcome to Alpha Mobile" in detail.content.decode() and b'data-testid="resend"' not in detail.content
    pdf = client.get(reverse("letters:letter_pdf", args=[letter.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_customer_page_has_the_letters_panel_and_sends_ad_hoc(ann, letter, make_user, smtp):
    client = login(make_user("csr", {ann.brand: ALL}), ann.brand)
    page = client.get(reverse("customers:customer_detail", args=[ann.pk])).content.decode()
    assert 'data-testid="letters-panel"' in page and "Welcome to Alpha Mobile" in page
    response = client.post(reverse("letters:adhoc", args=[ann.pk]),
                           {"channel": "email", "subject": "About your line", "text": "Hi {{ customer.first_name }}"})
    assert response.status_code == 302
    adhoc = Letter.objects.get(subject="About your line")
    assert adhoc.text == "Hi Annabel" and adhoc.created_by == "csr"
    client.post(reverse("letters:adhoc", args=[ann.pk]), {"channel": "email", "text": "x", "recipient": "nope@"})
    assert not Letter.objects.filter(recipient="nope@").exists()  # refused when typed
    client.post(reverse("letters:adhoc", args=[ann.pk]), {"channel": "sms", "text": "{{ customer.nmae }}"})
    assert Letter.objects.count() == 2  # an unknown placeholder is refused before anything is queued


def test_template_editor_previews_and_saves_a_version(ann, make_user):
    client = login(make_user("editor", {ann.brand: ALL}), ann.brand)
    base = LetterTemplate.objects.get(brand=ann.brand, code="welcome")
    form = client.get(reverse("letters:template_edit"), {"from": base.pk})
    assert form.context["form"].initial["code"] == "welcome"
    data = {"code": "welcome", "channel": "email", "language": "en", "purpose": "service",
            "subject": "Hello {{ customer.first_name }}", "text": "Welcome aboard", "html": "", "activate": "on"}
    preview = client.post(reverse("letters:template_edit"), {**data, "preview": "1"})
    assert preview.context["rendered"]["subject"] == "Hello Ada"
    assert LetterTemplate.objects.filter(code="welcome").count() == 1
    bad = client.post(reverse("letters:template_edit"), {**data, "text": "ok\n{{ customer.nmae }}"})
    assert "line 2" in str(bad.context["form"].errors["text"])
    assert client.post(reverse("letters:template_edit"), data).status_code == 302
    assert LetterTemplate.objects.get(code="welcome", active=True).version == 2


def test_triggers_screen(ann, make_user):
    client = login(make_user("editor", {ann.brand: ALL}), ann.brand)
    response = client.post(reverse("letters:trigger_new"), {
        "name": "Suspended", "event_type": "subscription.suspended", "template_code": "welcome",
        "channel": "email", "conditions": '[{"field": "customer_kind", "op": "eq", "value": "private"}]',
        "active": "on"})
    assert response.status_code == 302
    assert Trigger.objects.get(name="Suspended").conditions[0]["field"] == "customer_kind"
    bad = client.post(reverse("letters:trigger_new"), {"name": "x", "event_type": "balance.low",
                                                       "template_code": "balance-low", "channel": "sms",
                                                       "conditions": "not json"})
    assert "conditions" in bad.context["form"].errors


def test_print_queue_screen(ann, printed, make_user):
    client = login(make_user("backoffice", {ann.brand: ALL}), ann.brand)
    assert 'data-testid="make-batch"' in client.get(reverse("letters:print_queue")).content.decode()
    client.post(reverse("letters:print_queue"))
    batch = PrintBatch.objects.get()
    pdf = client.get(reverse("letters:batch_file", args=[batch.pk, "pdf"]))
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    client.post(reverse("letters:batch_action", args=[batch.pk, "printed"]))
    printed.refresh_from_db()
    assert printed.state == "sent"


def test_rights_without_change_or_send(ann, letter, printed, make_user, system):
    client = login(make_user("reader", {ann.brand: VIEW}), ann.brand)
    assert client.get(reverse("letters:template_edit")).status_code == 403
    assert client.get(reverse("letters:trigger_new")).status_code == 403
    assert client.post(reverse("letters:resend", args=[letter.pk])).status_code == 403
    assert client.post(reverse("letters:adhoc", args=[ann.pk]), {"channel": "email", "text": "x"}).status_code == 403
    assert client.post(reverse("letters:print_queue")).status_code == 403
    template = LetterTemplate.objects.filter(brand=ann.brand).first()
    assert client.post(reverse("letters:template_activate", args=[template.pk])).status_code == 403
    nobody = login(make_user("nobody", {ann.brand: ["customers.view"]}), ann.brand)
    assert nobody.get(reverse("letters:outbox")).status_code == 403
    page = nobody.get(reverse("customers:customer_detail", args=[ann.pk])).content.decode()
    assert 'data-testid="letters-panel"' not in page


def test_brand_b_sees_nothing_of_brand_a(ann, bob, letter, printed, make_user, system):
    batch = make_batch(ann.brand, actor=system, at=clock.now())
    template = LetterTemplate.objects.filter(brand=ann.brand).first()
    trigger = Trigger.objects.filter(brand=ann.brand).first()
    client = login(make_user("bravo", {bob.brand: ALL}), bob.brand)
    for name, args in [("letters:letter", [letter.pk]), ("letters:letter_pdf", [letter.pk]),
                       ("letters:template", [template.pk]), ("letters:trigger", [trigger.pk]),
                       ("letters:batch_file", [batch.pk, "pdf"])]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    for name, args in [("letters:resend", [letter.pk]), ("letters:template_activate", [template.pk]),
                       ("letters:batch_action", [batch.pk, "printed"]), ("letters:adhoc", [ann.pk]),
                       ("letters:trigger", [trigger.pk])]:
        assert client.post(reverse(name, args=args), {"channel": "email", "text": "x"}).status_code == 404, name
    outbox = client.get(reverse("letters:outbox")).context["object_list"]
    assert list(outbox) == []
    assert Letter.objects.filter(brand=ann.brand).count() == 2
    batch.refresh_from_db()
    assert batch.printed_at is None


def test_tmf681_list_get_and_send(ann, bob, letter, api_for, smtp):
    alpha = api_for({ann.brand: ALL})
    sender = {"id": ann.brand.code}
    listing = alpha.get(BASE681, **{"receiver.id": str(ann.pk)})
    assert listing.status_code == 200 and [m["id"] for m in listing.json()] == [str(letter.pk)]
    one = alpha.get(f"{BASE681}/{letter.pk}").json()
    assert one["messageType"] == "Email" and one["state"] == "initial" and one["@type"] == "CommunicationMessage"
    assert one["receiver"][0]["email"] == "annabel@example.com" and one["sender"]["id"] == ann.brand.code
    assert alpha.get(f"{BASE681}/{letter.pk}", fields="state").json() == {
        "id": str(letter.pk), "href": f"{BASE681}/{letter.pk}", "@type": "CommunicationMessage", "state": "initial"}
    assert set(alpha.get(BASE681, fields="messageType").json()[0]) == {"id", "href", "@type", "messageType"}
    created = alpha.client.post(BASE681, {"messageType": "SMS", "receiver": [{"id": str(ann.pk)}], "sender": sender,
                                          "content": "Hi {{ customer.first_name }}"}, content_type="application/json",
                                headers={**alpha.headers, "Idempotency-Key": "abc"})
    assert created.status_code == 201 and created.json()["content"] == "Hi Annabel"
    again = alpha.client.post(BASE681, {"messageType": "SMS", "receiver": [{"id": str(ann.pk)}], "sender": sender,
                                        "content": "other"},
                              content_type="application/json", headers={**alpha.headers, "Idempotency-Key": "abc"})
    assert again.json()["id"] == created.json()["id"]
    templated = alpha.post(BASE681, {"messageType": "Email", "receiver": [{"id": str(ann.pk)}], "sender": sender,
                                     "content": "", "characteristic": [{"name": "templateCode", "value": "welcome"}]})
    assert templated.status_code == 201 and templated.json()["subject"].startswith("Welcome")
    bad = alpha.post(BASE681, {"messageType": "Email", "receiver": [{"id": str(ann.pk), "email": "not-an-address"}],
                               "sender": sender, "content": "x"})
    assert bad.status_code == 400 and "recipient" in bad.content.decode()
    bravo = api_for({bob.brand: ALL})
    assert bravo.get(f"/tmf-api/communicationManagement/v4/communicationMessage/{letter.pk}").status_code == 404
    assert bravo.get("/tmf-api/communicationManagement/v4/communicationMessage").json() == []
    assert bravo.post(BASE681, {"messageType": "SMS", "receiver": [{"id": str(ann.pk)}], "sender": {},
                                "content": "x"}).status_code == 404
    reader = api_for({ann.brand: VIEW})
    assert reader.post(BASE681, {"messageType": "SMS", "receiver": [{"id": str(ann.pk)}], "sender": {},
                                 "content": "x"}).status_code == 403


@pytest.mark.parametrize("missing", ["content", "receiver", "sender", "messageType"])
def test_tmf681_create_requires_the_specs_fields_and_names_the_missing_one(ann, api_for, missing):
    body = {"messageType": "SMS", "receiver": [{"id": str(ann.pk)}], "sender": {"id": ann.brand.code},
            "content": "Hello"}
    del body[missing]
    answer = api_for({ann.brand: ALL}).post(BASE681, body)
    assert answer.status_code == 400
    assert [error["field"] for error in answer.json()["errors"]] == [missing], answer.json()
    assert missing in answer.json()["message"]
    assert not Letter.objects.exists()


def test_tmf681_create_explains_bad_values(ann, bob, api_for):
    alpha = api_for({ann.brand: ALL})
    body = {"messageType": "SMS", "receiver": [{"id": str(ann.pk)}], "sender": {"id": ann.brand.code}, "content": "x"}
    for change, field in (({"sender": {"id": bob.brand.code}}, "sender"), ({"content": "  "}, "content"),
                          ({"messageType": "Pigeon"}, "messageType"), ({"receiver": []}, "receiver"),
                          ({"receiver": [{"name": "no id"}]}, "receiver")):
        answer = alpha.post(BASE681, {**body, **change})
        assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == field, (change, answer.json())
    assert not Letter.objects.exists()
