"""A brand's triggers: which event sends which template on which channel, under which conditions.

Conditions are data, never code: a list of {"field", "op", "value"} over the event's fields
(`fields_of`: the payload as `payload.<key>`, and customer_group, customer_kind, customer_language,
service_type, subscription_status looked up from the customer and line the event names).
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import transaction

from telora.core.services.actors import Actor, ServiceError
from telora.core.services.audit import record_event
from telora.letters.constants import EVENT_TYPES, OPERATORS, TRIGGER_CHANNELS
from telora.letters.models import LetterTemplate, Trigger
from telora.letters.services.common import require

FIELD = re.compile(r"^(payload\.[A-Za-z0-9_.]{1,60}|customer_group|customer_kind|customer_language|service_type|"
                   r"subscription_status)$")
MAX_CONDITIONS = 10


def clean_conditions(conditions) -> list[dict]:
    if conditions in (None, ""):
        return []
    if not isinstance(conditions, list) or len(conditions) > MAX_CONDITIONS:
        raise ServiceError(f"conditions: a list of at most {MAX_CONDITIONS} conditions", field="conditions")
    cleaned = []
    for number, condition in enumerate(conditions, start=1):
        if not isinstance(condition, dict):
            raise ServiceError(f"conditions: condition {number} is not a {{field, op, value}} object",
                               field="conditions")
        field, op, value = str(condition.get("field", "")).strip(), condition.get("op"), condition.get("value")
        if not FIELD.match(field):
            raise ServiceError(f"conditions: condition {number}: field {field[:40]!r} is not payload.<key>, "
                               "customer_group, customer_kind, customer_language, service_type or "
                               "subscription_status", field="conditions")
        if op not in OPERATORS:
            raise ServiceError(f"conditions: condition {number}: op {str(op)[:20]!r} is not one of "
                               f"{', '.join(OPERATORS)}", field="conditions")
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value or len(value) > 50:
                raise ServiceError(f"conditions: condition {number}: {op} needs a list of 1 to 50 values",
                                   field="conditions")
            value = [str(v)[:100] for v in value]
        elif op in ("exists", "missing"):
            value = None
        else:
            if value is None or isinstance(value, (list, dict)):
                raise ServiceError(f"conditions: condition {number}: {op} needs one value", field="conditions")
            value = str(value)[:100]
        cleaned.append({"field": field, "op": op, "value": value})
    return cleaned


def save_trigger(brand, *, actor: Actor, at: dt.datetime, name: str, event_type: str, template_code: str,
                 channel: str, conditions=None, active: bool = True, trigger: Trigger | None = None) -> Trigger:
    """Create (or, given `trigger`, change) a trigger. Needs letters.change."""
    require(actor, brand, "letters.change")
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ServiceError("name: 1 to 120 characters", field="name")
    if event_type not in EVENT_TYPES:
        raise ServiceError(f"event_type: {str(event_type)[:60]!r} is not an event Telora emits", field="event_type")
    if channel not in TRIGGER_CHANNELS:
        raise ServiceError(f"channel: one of {', '.join(TRIGGER_CHANNELS)}", field="channel")
    templates = LetterTemplate.objects.filter(brand=brand, code=template_code, active=True)
    if channel != "preferred":
        templates = templates.filter(channel=channel)
    if not templates.exists():
        raise ServiceError(f"template_code: no active {'' if channel == 'preferred' else channel + ' '}template "
                           f"{str(template_code)[:40]!r} in this brand", field="template_code")
    values = {"name": name, "event_type": event_type, "template_code": template_code, "channel": channel,
              "conditions": clean_conditions(conditions), "active": bool(active)}
    with transaction.atomic():
        if trigger is None:
            trigger = Trigger.objects.create(brand=brand, created_at=at, updated_at=at, **values)
            old = None
        else:
            if trigger.brand_id != brand.pk:
                raise ServiceError("trigger: not in this brand", field="trigger")
            old = {key: getattr(trigger, key) for key in values}
            for key, value in values.items():
                setattr(trigger, key, value)
            trigger.updated_at = at
            trigger.save()
        record_event(actor=actor, at=at, action="letter_trigger_save", obj=trigger, brand=brand, old=old, new=values)
    return trigger
