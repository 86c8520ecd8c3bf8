"""Templates: versioned, one active, checked at save (unknown placeholders and sandbox refusals named
with their part and line), previewed with sample data; rendering by the customer's language."""

from __future__ import annotations

import pytest

from telora.core import clock
from telora.core.services.actors import PermissionDeniedError, ServiceError
from telora.letters.engine import conditions_hold, gsm7_decode, is_gsm7, sms_parts
from telora.letters.models import LetterTemplate
from telora.letters.services.templates import activate, active_template, preview, save_template

pytestmark = pytest.mark.usefixtures("shop_kept")


def _save(brand, actor, **values):
    spec = {"code": "hello", "channel": "email", "subject": "Hi {{ customer.first_name }}",
            "text": "Hello {{ customer.name }}"}
    spec.update(values)
    return save_template(brand, actor=actor, at=clock.now(), **spec)


def test_a_save_is_a_new_version_and_only_one_is_active(shop, system):
    first = _save(shop, system)
    second = _save(shop, system, text="Hello again {{ customer.name }}")
    assert (first.version, second.version) == (1, 2)
    first.refresh_from_db()
    assert not first.active and second.active
    activate(first, actor=system, at=clock.now())
    second.refresh_from_db()
    assert not second.active
    assert active_template(shop, "hello", "email", "en").version == 1


@pytest.mark.parametrize(("values", "field", "words"), [
    ({"text": "Hello\n{{ customer.nmae }}"}, "text", "text: line 2: unknown placeholder customer.nmae"),
    ({"subject": "{{ invoce.number }}"}, "subject", "unknown placeholder 'invoce'"),
    ({"text": "{% for x in customer %}\n{{ x.__class__ }}{% endfor %}"}, "text", "line 2"),
    ({"text": "{{ customer.name|safe }}"}, "text", "'|safe' is not allowed"),
    ({"text": "{% if %}"}, "text", "syntax error"),
    ({"channel": "print", "html": '<img src="http://tracker.example/x.png">'}, "html", "reaches outside"),
    ({"text": "{{ balance.amount|money('XXQ') }}"}, "text", "money"),
])
def test_a_bad_template_is_refused_at_save_naming_part_and_line(shop, system, values, field, words):
    with pytest.raises(ServiceError) as caught:
        _save(shop, system, **values)
    assert caught.value.field == field and words in caught.value.message
    assert not LetterTemplate.objects.filter(brand=shop, code="hello").exists()


def test_free_event_payload_keys_are_allowed(shop, system):
    template = _save(shop, system, text="{{ event.payload.anything }} {{ event.type }}")
    assert template.version == 1


def test_preview_renders_the_sample_data(shop):
    result = preview(shop, channel="email", subject="For {{ customer.name }}",
                     text="Balance {{ balance.amount|money(balance.currency) }}", html="<p>{{ customer.name }}</p>")
    assert result["subject"] == "For Ada Lovelace" and "€1.50" in result["text"]
    assert result["html"] == "<p>Ada Lovelace</p>"


def test_html_is_escaped_text_is_not(shop, system):
    result = preview(shop, channel="email", subject="{{ brand.name }} & co", text="{{ brand.name }} & co",
                     html="{{ brand.name }} & co")
    assert result["text"] == "Alpha Mobile & co"


def test_language_customer_then_brand(shop, system):
    _save(shop, system, language="nl", text="Hallo {{ customer.name }}")
    english = active_template(shop, "hello", "email", "de")
    assert english is None or english.language in ("en", "nl")
    _save(shop, system, language="en")
    assert active_template(shop, "hello", "email", "nl").language == "nl"
    assert active_template(shop, "hello", "email", "de").language == "en"


def test_saving_needs_letters_change(shop, make_user):
    from telora.core.services import Actor

    clerk = make_user("clerk", {shop: ["letters.view"]})
    with pytest.raises(PermissionDeniedError):
        _save(shop, Actor(user=clerk))


def test_conditions_are_data():
    fields = {"payload": {"balance": "1.50"}, "customer_group": "staff", "service_type": "mobile_prepaid"}
    assert conditions_hold([{"field": "payload.balance", "op": "lt", "value": "2"},
                            {"field": "service_type", "op": "in", "value": ["mobile_prepaid"]}], fields)
    assert not conditions_hold([{"field": "customer_group", "op": "ne", "value": "staff"}], fields)
    assert not conditions_hold([{"field": "payload.missing", "op": "gt", "value": "1"}], fields)
    assert conditions_hold([{"field": "payload.missing", "op": "missing"}], fields)


def test_sms_encoding_by_content_and_split_without_breaking_characters():
    assert is_gsm7("Top up {now} €5") and not is_gsm7("Привет")
    coding, parts = sms_parts("a" * 160)
    assert coding == 0 and len(parts) == 1
    coding, parts = sms_parts("€" * 100)  # 200 septets: two parts, no escape pair cut
    assert coding == 0 and len(parts) == 2 and all(p[:3] == b"\x05\x00\x03" for p in parts)
    assert gsm7_decode(b"".join(p[6:] for p in parts)) == "€" * 100
    coding, parts = sms_parts("Привет, " * 20)
    assert coding == 8 and len(parts) == 3
    assert b"".join(p[6:] for p in parts).decode("utf-16-be") == "Привет, " * 20
