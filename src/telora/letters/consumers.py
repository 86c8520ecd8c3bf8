"""The letters module as a consumer of domain events: `handle_event(event)` queues the letters of
every active trigger of the event's brand and type whose conditions hold, once per event and
trigger (the letter's idempotency key), so a re-delivered event sends nothing twice.

The app registers `handle_events` as a batch consumer: a rating batch that takes a thousand lines
below their threshold queues a thousand letters in a few statements, not a thousand transactions.

`event` is the contract's object (attributes id, type, brand_id, subject_type, subject_id, payload,
at); anything with those attributes will do. The app registers this handler with
`telora.events.registry.consumer` when that module exists (apps.py).
"""

from __future__ import annotations

import logging

from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor, ServiceError
from telora.customers.models import Customer, Subscription
from telora.letters.engine import conditions_hold
from telora.letters.models import LetterTemplate, Trigger
from telora.letters.services.context import customer_context, pick_postal_address
from telora.letters.services.outbox import NoConsent, queue_letters

logger = logging.getLogger(__name__)
ACTOR = Actor.system("letters.events")


def _id(value) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _subject(event, kind: str) -> int | None:
    return _id(event.subject_id) if (event.subject_type or "") == kind else None


def _ids(event) -> dict:
    """The customer, line and invoice ids the event names (payload ids, else its subject)."""
    payload = event.payload or {}
    return {"subscription": _id(payload.get("subscription_id")) or _subject(event, "customers.subscription"),
            "invoice": _id(payload.get("invoice_id")) or _subject(event, "billing.invoice"),
            "customer": _id(payload.get("customer_id")) or _subject(event, "customers.customer")}


class Lookup:
    """The customers, lines, invoices, billing accounts and postal addresses a batch of events of
    one brand names, each kind read in one query (a rating batch's thousand events: a few
    queries, not a few thousand)."""

    def __init__(self, brand, events):
        from telora.billing.models import Invoice
        from telora.customers.models import Address, BillingAccount

        wanted = [_ids(event) for event in events]
        ids = {kind: {w[kind] for w in wanted if w[kind]} for kind in ("subscription", "invoice", "customer")}
        self.subscriptions = Subscription.objects.filter(brand=brand, pk__in=ids["subscription"]).select_related(
            "customer", "customer__brand", "customer__customer_group").in_bulk() if ids["subscription"] else {}
        self.invoices = Invoice.objects.filter(brand=brand, pk__in=ids["invoice"]).select_related(
            "account", "account__customer", "brand").in_bulk() if ids["invoice"] else {}
        self.customers = Customer.objects.filter(brand=brand, pk__in=ids["customer"]).select_related(
            "brand", "customer_group").in_bulk() if ids["customer"] else {}
        everyone = {c.pk for c in self.customers.values()} | {s.customer_id for s in self.subscriptions.values()} \
            | {i.account.customer_id for i in self.invoices.values()}
        self.accounts: dict = {}
        for account in BillingAccount.objects.filter(customer_id__in=everyone).order_by("-id"):
            self.accounts[account.customer_id] = account  # the first by id wins, as customer_context takes it
        self.addresses: dict = {}
        for address in Address.objects.filter(customer_id__in=everyone).order_by("id"):
            self.addresses.setdefault(address.customer_id, []).append(address)

    def resolve(self, event) -> dict:
        ids = _ids(event)
        found = {"subscription": self.subscriptions.get(ids["subscription"]),
                 "invoice": self.invoices.get(ids["invoice"]), "account": None,
                 "customer": self.customers.get(ids["customer"])}
        if found["invoice"] is not None:
            found["account"] = found["invoice"].account
        if found["customer"] is None and found["subscription"] is not None:
            found["customer"] = found["subscription"].customer
        if found["customer"] is None and found["account"] is not None:
            found["customer"] = found["account"].customer
        return found

    def context(self, event, found: dict, at) -> dict:
        """What the letter's template sees (services.context.customer_context), from what was read."""
        customer = found["customer"]
        return customer_context(customer, subscription=found["subscription"],
                                account=found["account"] or self.accounts.get(customer.pk), event=event,
                                invoice=found["invoice"], at=at,
                                postal=pick_postal_address(self.addresses.get(customer.pk, [])))


def resolve(event, brand) -> dict:
    """The customer, line and invoice the event names (payload ids, else its subject), in its brand."""
    return Lookup(brand, [event]).resolve(event)


def fields_of(event, found: dict) -> dict:
    """What a trigger's conditions may test (see services.triggers)."""
    customer, subscription = found["customer"], found["subscription"]
    return {
        "payload": dict(event.payload or {}),
        "customer_group": customer.customer_group.code if customer and customer.customer_group_id else None,
        "customer_kind": customer.kind if customer else None,
        "customer_language": customer.language if customer else None,
        "service_type": subscription.service_type if subscription else None,
        "subscription_status": subscription.status if subscription else None,
    }


def matching_triggers(triggers, fields: dict) -> list:
    """The pure part: the triggers (objects with .conditions) whose conditions hold on `fields`."""
    return [trigger for trigger in triggers if conditions_hold(trigger.conditions or [], fields)]


def handle_event(event) -> list:
    """Queue the event's letters; returns them (those queued before included: at-least-once delivery)."""
    return handle_events([event])


def handle_events(events) -> list:
    """The letters of a batch of events: brands, modules, triggers and templates looked up once per
    batch, the customers, lines, invoices, accounts and addresses the events name read per kind in
    one query per brand (Lookup), the letters of each brand queued together (one render round trip, one insert: queue_letters);
    invoice letters with the PDF attached one by one (each stores its PDF)."""
    brands: dict = {}
    triggers: dict = {}
    items: dict = {}  # brand id -> [(event, trigger, queue_letters item)]
    letters: list = []
    at = clock.now()
    lookups: dict = {}  # brand id -> Lookup of the batch's events of that brand
    attaching: dict = {}  # (brand id, template code) -> whether its template attaches the invoice PDF
    for event in events:
        brand_id = _id(event.brand_id)
        if brand_id not in brands:
            from telora.core.modules import area_enabled

            brand = Brand.objects.filter(pk=brand_id).first()
            brands[brand_id] = brand if brand is not None and area_enabled("letters", brand.pk) else None
        brand = brands[brand_id]
        if brand is None:
            continue
        if (brand.pk, event.type) not in triggers:
            triggers[brand.pk, event.type] = list(Trigger.objects.filter(brand=brand, event_type=event.type,
                                                                         active=True).order_by("id"))
        candidates = triggers[brand.pk, event.type]
        if not candidates:
            continue
        if brand.pk not in lookups:
            lookups[brand.pk] = Lookup(brand, [e for e in events if _id(e.brand_id) == brand.pk])
        found = lookups[brand.pk].resolve(event)
        if found["customer"] is None:
            logger.info("letters: event %s (%s) names no customer of brand %s", event.id, event.type, brand.code)
            continue
        for trigger in matching_triggers(candidates, fields_of(event, found)):
            if (brand.pk, trigger.template_code) not in attaching:
                attaching[brand.pk, trigger.template_code] = _attaches_invoice(trigger)
            if found["invoice"] is not None and attaching[brand.pk, trigger.template_code]:
                try:
                    letters.append(_deliver_invoice(event, trigger, found, at))
                except ServiceError as exc:
                    _skipped(event, trigger, exc)
                continue
            items.setdefault(brand.pk, []).append((event, trigger, {
                "key": f"event:{event.id}:trigger:{trigger.pk}", "customer": found["customer"],
                "template_code": trigger.template_code, "channel": trigger.channel, "trigger": trigger,
                "event_id": str(event.id), "subscription": found["subscription"], "account": found["account"],
                "event": event, "invoice": found["invoice"],
                "context": lookups[brand.pk].context(event, found, at)}))
    for brand_id, queued in items.items():
        answers = queue_letters(brands[brand_id], [item for _e, _t, item in queued], actor=ACTOR, at=at)
        for (event, trigger, _item), answer in zip(queued, answers, strict=True):
            if isinstance(answer, ServiceError):
                _skipped(event, trigger, answer)
            else:
                letters.append(answer)
    return letters


def _skipped(event, trigger, exc: ServiceError) -> None:
    if isinstance(exc, NoConsent):
        logger.info("letters: event %s trigger %s: %s", event.id, trigger.pk, exc.message)
    else:  # a trigger whose template was removed: the others go on
        logger.warning("letters: event %s trigger %s: %s", event.id, trigger.pk, exc.message)


def _attaches_invoice(trigger) -> bool:
    return LetterTemplate.objects.filter(brand_id=trigger.brand_id, code=trigger.template_code, active=True,
                                         attachments__contains=["invoice_pdf"]).exists()


def _deliver_invoice(event, trigger, found: dict, at):
    from telora.letters.services.invoices import deliver_invoice

    return deliver_invoice(found["invoice"], actor=ACTOR, at=at, template_code=trigger.template_code)
