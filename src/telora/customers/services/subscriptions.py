"""Selling a subscription: its products, its SIM and number from the inventory, its addresses.

The SIM card and number come from `telora.inventory.services` (the chosen ones or the next free
ones). A SIM or number reserved beforehand (a number picker, an order) is honoured when the
reservation's reference is passed; by default that reference is `reservation_reference(customer)`,
so the GUI can reserve for the customer and sell in a second step.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from telora.catalog.constants import SERVICE_TYPES
from telora.catalog.selectors import catalogue_owners
from telora.core import clock
from telora.core.models import Brand
from telora.core.services.actors import Actor
from telora.core.services.audit import record_event, snapshot
from telora.customers.constants import CIRCUIT_TYPES, INSTALLATION_TYPES, MOBILE_TYPES, NUMBER_TYPES
from telora.customers.models import (
    Address,
    BillingAccount,
    Customer,
    NumberAssignment,
    ProductInstance,
    Subscription,
)
from telora.customers.services.common import (
    ASSIGNMENT_FIELDS,
    INSTANCE_FIELDS,
    SUBSCRIPTION_FIELDS,
    check,
    fail,
    for_inventory,
    from_inventory,
    own,
    require,
    sale_channel,
    subscription_facts,
)
from telora.customers.services.products import check_rules, product_for
from telora.customers.validation import add_months, clean_circuit_id
from telora.events.services import emit
from telora.inventory import services as inventory
from telora.inventory.models import PhoneNumber
from telora.inventory.validation import clean_number

FREE_TEXT_MAX = 64


def reservation_reference(customer: Customer) -> str:
    """The reference a SIM or number reserved for this customer carries (inventory `reserved_for`)."""
    return f"customer {customer.number}"


def lock_subscription(subscription: Subscription) -> Subscription:
    return (Subscription.objects.select_for_update(of=("self",))
            .select_related("brand", "customer", "sim", "phone_number").get(pk=subscription.pk))


def check_time(subscription: Subscription, at: dt.datetime) -> None:
    """Changes happen in order: nothing is written before the subscription's last change."""
    if at < subscription.updated_at:
        raise fail("at", f"{at:%Y-%m-%d %H:%M:%S} is before the subscription's last change "
                         f"({subscription.updated_at:%Y-%m-%d %H:%M:%S})", code="state")


def start_instance(subscription: Subscription, product, *, actor: Actor, at: dt.datetime,
                   channel=None) -> ProductInstance:
    """A product on the subscription from `at`, sold through `channel` (a SalesChannel or None);
    one-time products and devices start and end at once."""
    once = product.kind in ("one_time", "device")
    instance = ProductInstance.objects.create(
        brand=subscription.brand, subscription=subscription, product=product, kind=product.kind, start_at=at,
        end_at=at if once else None, end_reason="once" if once else "", created_at=at, channel=channel)
    record_event(actor=actor, at=at, action="create", obj=instance, brand=subscription.brand,
                 new={**snapshot(instance, INSTANCE_FIELDS), "product_code": product.code})
    return instance


def end_instance(instance: ProductInstance, *, actor: Actor, at: dt.datetime, reason: str) -> ProductInstance:
    old = snapshot(instance, INSTANCE_FIELDS)
    instance.end_at = at
    instance.end_reason = reason
    instance.save(update_fields=["end_at", "end_reason"])
    record_event(actor=actor, at=at, action="end", obj=instance, brand=instance.brand, old=old,
                 new=snapshot(instance, INSTANCE_FIELDS))
    return instance


def commitment_after(current: dt.datetime | None, plan, start: dt.datetime, brand: Brand) -> dt.datetime | None:
    """A plan with a commitment binds until start + its months (in the brand's calendar); never shortens one."""
    if not plan.commitment_months:
        return current
    ends = add_months(clock.localtime(start, brand), plan.commitment_months)
    return max(ends, current) if current is not None else ends


def _address(value, customer: Customer, field: str) -> Address | None:
    return own(value, customer.brand, field, Address, customer=customer)


def _role_address(customer: Customer, role: str) -> Address | None:
    return next((a for a in customer.addresses.order_by("id") if role in a.roles), None)


def _number(brand: Brand, service_type: str, number, group, reference: str, actor: Actor, at: dt.datetime):
    """(PhoneNumber or None, digits): mobile numbers always come from the inventory; fixed and VoIP
    numbers too when the inventory holds them (or none is given), else they are an outside number."""
    if service_type in MOBILE_TYPES or number in (None, "") or isinstance(number, PhoneNumber):
        item = from_inventory(inventory.allocate_number, brand, number or None, group=group, reference=reference,
                              actor=for_inventory(actor), at=at)
        return item, item.number
    digits = check("number", clean_number, str(number), brand.country)
    if PhoneNumber.objects.filter(brand=brand, number=digits).exists():
        item = inventory.allocate_number(brand, digits, reference=reference, actor=for_inventory(actor), at=at)
        return item, item.number
    return None, digits


def _identifier(service_type: str, identifier: str) -> str:
    if service_type in CIRCUIT_TYPES:
        return check("identifier", clean_circuit_id, identifier)
    text = (identifier or "").strip()
    if text:
        return check("identifier", clean_circuit_id, text)
    return ""


@transaction.atomic
def create_subscription(customer: Customer, *, actor: Actor, at: dt.datetime, billing_account, service_type: str,
                        plan, addons=(), one_time=(), number=None, number_group=None, sim=None,
                        sim_type: str | None = None, identifier: str = "", billing_address=None,
                        shipping_address=None, installation_address=None, reference: str | None = None,
                        activate: bool = True, channel=None, interface: str | None = None) -> Subscription:
    """A new subscription with its plan, add-ons and one-time products, all starting at `at`.

    Mobile: a SIM (`sim`: an ICCID, or the next free one of `sim_type`) and an MSISDN (`number`,
    or the next free one of `number_group`) are allocated from the inventory. Fixed line and VoIP:
    a number (allocated when the inventory holds it). Broadband and fiber: `identifier` is the
    circuit id. Products are catalogue codes (or objects); the catalogue's rules must hold.
    With `activate` (the default) the subscription is active at once, else pending. The sale is
    recorded in `channel` (a code), else in the default channel of `interface` (gui, api, …).
    """
    brand = customer.brand
    require(actor, brand)
    customer = Customer.objects.select_for_update().select_related("brand").get(pk=customer.pk)
    if customer.status != "active":
        raise fail("customer", f"{customer.number} is {customer.status}; only active customers get new "
                               "subscriptions", code="state")
    if service_type not in SERVICE_TYPES:
        raise fail("service_type", f"{service_type!r} is not one of {', '.join(SERVICE_TYPES)}")
    account = own(billing_account, brand, "billing_account", BillingAccount, customer=customer)
    if account is None:
        raise fail("billing_account", "is required")
    if account.status != "active":
        raise fail("billing_account", f"{account.number} is closed", code="state")
    owners = catalogue_owners(brand)  # read once for every product, the rules and the channel
    products = [product_for(brand, plan, field="plan", kinds=("plan",), service_type=service_type, at=at,
                            owners=owners)]
    products += [product_for(brand, code, field=f"addons[{i}]", kinds=("addon",), service_type=service_type, at=at,
                             owners=owners) for i, code in enumerate(addons)]
    products += [product_for(brand, code, field=f"one_time[{i}]", kinds=("one_time", "device"),
                             service_type=service_type, at=at, owners=owners) for i, code in enumerate(one_time)]
    check_rules(brand, products, at, owners=owners)
    channel = sale_channel(brand, channel, interface, at, owners=owners)

    addresses = {
        "billing_address": _address(billing_address, customer, "billing_address"),
        "shipping_address": _address(shipping_address, customer, "shipping_address"),
        "installation_address": _address(installation_address, customer, "installation_address"),
    }
    if addresses["installation_address"] is None and service_type in INSTALLATION_TYPES:
        addresses["installation_address"] = _role_address(customer, "installation")
        if addresses["installation_address"] is None and service_type in ("fixed_line", "broadband", "fiber"):
            raise fail("installation_address", f"a {service_type} subscription needs an installation address")
    if (sim not in (None, "") or sim_type) and service_type not in MOBILE_TYPES:
        raise fail("sim", f"only mobile subscriptions have a SIM card, not {service_type}")

    reference = reservation_reference(customer) if reference is None else reference
    phone, sim_card = None, None
    if service_type in NUMBER_TYPES:
        if identifier:
            raise fail("identifier", f"a {service_type} subscription is identified by its number; give `number`")
        phone, identifier = _number(brand, service_type, number, number_group, reference, actor, at)
    else:
        if number not in (None, ""):
            raise fail("number", f"a {service_type} subscription has no phone number")
        identifier = _identifier(service_type, identifier)
    if service_type in MOBILE_TYPES:
        sim_card = from_inventory(inventory.allocate_sim, brand, sim or None, sim_type=sim_type or None,
                                  reference=reference, actor=for_inventory(actor), at=at)
    if identifier and Subscription.objects.filter(brand=brand, identifier=identifier).exclude(
            status="terminated").exists():
        raise fail("identifier" if service_type not in NUMBER_TYPES else "number",
                   f"{identifier} belongs to another live subscription", code="conflict")

    subscription = Subscription(
        brand=brand, customer=customer, billing_account=account, service_type=service_type, identifier=identifier,
        phone_number=phone, sim=sim_card, status="pending", created_at=at, updated_at=at, channel=channel,
        **addresses)
    try:
        with transaction.atomic():
            subscription.save()
            assignment = None
            if service_type in NUMBER_TYPES:
                assignment = NumberAssignment.objects.create(brand=brand, subscription=subscription,
                                                             number=identifier, valid_from=at)
    except IntegrityError:
        raise fail("number" if service_type in NUMBER_TYPES else "identifier",
                   f"{identifier} is held by another subscription at {at:%Y-%m-%d %H:%M}", code="conflict") from None
    if activate:
        subscription.status = "active"
        subscription.activated_at = at
        subscription.commitment_end = commitment_after(None, products[0], at, brand)
        subscription.save(update_fields=["status", "activated_at", "commitment_end"])
    record_event(actor=actor, at=at, action="create", obj=subscription, brand=brand,
                 new={**snapshot(subscription, SUBSCRIPTION_FIELDS), "products": [p.code for p in products]})
    if assignment is not None:
        record_event(actor=actor, at=at, action="assign", obj=assignment, brand=brand,
                     new=snapshot(assignment, ASSIGNMENT_FIELDS))
    for product in products:
        start_instance(subscription, product, actor=actor, at=at, channel=channel)
    if activate:  # sold live at once: the same event as a later activation
        emit("subscription.activated", brand=brand, subject=subscription, at=at, actor=actor,
             payload=subscription_facts(subscription, plan=products[0].code))
    return subscription


def end_number_assignments(subscription: Subscription, *, brand, actor: Actor, at: dt.datetime) -> None:
    """The line's current number assignments end at `at` (a number change, a termination), each audited:
    the number history keeps who held which number when."""
    for assignment in subscription.number_history.filter(valid_to__isnull=True):
        before = snapshot(assignment, ASSIGNMENT_FIELDS)
        assignment.valid_to = at
        assignment.save(update_fields=["valid_to"])
        record_event(actor=actor, at=at, action="unassign", obj=assignment, brand=brand, old=before,
                     new=snapshot(assignment, ASSIGNMENT_FIELDS))


@transaction.atomic
def activate_subscription(subscription: Subscription, *, actor: Actor, at: dt.datetime) -> Subscription:
    """pending → active. Products and the number start counting from now (nothing was billed before)."""
    require(actor, subscription.brand)
    subscription = lock_subscription(subscription)
    if subscription.status != "pending":
        raise fail("status", f"the subscription is {subscription.status}, not pending", code="state")
    check_time(subscription, at)
    old = snapshot(subscription, SUBSCRIPTION_FIELDS)
    plan = None
    for instance in subscription.products.filter(end_at__isnull=True).select_related("product"):
        before = snapshot(instance, INSTANCE_FIELDS)
        instance.start_at = at
        instance.save(update_fields=["start_at"])
        record_event(actor=actor, at=at, action="activate", obj=instance, brand=subscription.brand, old=before,
                     new=snapshot(instance, INSTANCE_FIELDS))
        plan = instance.product if instance.kind == "plan" else plan
    for assignment in subscription.number_history.filter(valid_to__isnull=True):
        before = snapshot(assignment, ASSIGNMENT_FIELDS)
        assignment.valid_from = at
        assignment.save(update_fields=["valid_from"])
        record_event(actor=actor, at=at, action="activate", obj=assignment, brand=subscription.brand, old=before,
                     new=snapshot(assignment, ASSIGNMENT_FIELDS))
    subscription.status = "active"
    subscription.activated_at = at
    subscription.updated_at = at
    if plan is not None:
        subscription.commitment_end = commitment_after(None, plan, at, subscription.brand)
    subscription.save()
    record_event(actor=actor, at=at, action="activate", obj=subscription, brand=subscription.brand, old=old,
                 new=snapshot(subscription, SUBSCRIPTION_FIELDS))
    emit("subscription.activated", brand=subscription.brand, subject=subscription, at=at, actor=actor,
         payload=subscription_facts(subscription, plan=plan.code if plan is not None else None))
    return subscription


@transaction.atomic
def discard_subscription(subscription: Subscription, *, actor: Actor, at: dt.datetime, reason: str = "") -> None:
    """Remove a line that never went live (its sign-up order was cancelled): its products and number
    assignment go with it, the SIM card returns to stock and so does the number (never used, so no
    quarantine). A line that was ever active is terminated instead, never removed."""
    require(actor, subscription.brand)
    subscription = lock_subscription(subscription)
    if subscription.status != "pending" or subscription.activated_at is not None:
        raise fail("status", f"the subscription is {subscription.status}; only a line that never went live can be "
                             "removed (terminate it instead)", code="state")
    brand, inventory_actor = subscription.brand, for_inventory(actor)
    sim, phone = subscription.sim, subscription.phone_number
    record_event(actor=actor, at=at, action="delete", obj=subscription, brand=brand,
                 old={**snapshot(subscription, SUBSCRIPTION_FIELDS),
                      "products": [i.product.code for i in subscription.products.select_related("product")]},
                 message=reason[:500])
    try:
        with transaction.atomic():
            subscription.products.all().delete()
            subscription.number_history.all().delete()
            subscription.delete()
    except ProtectedError:
        raise fail("subscription", "other records already use this line; terminate it instead", code="state") from None
    if sim is not None:
        inventory.release_sim(brand, sim, actor=inventory_actor, at=at)
    if phone is not None:
        inventory.release_number(brand, phone, actor=inventory_actor, at=at)
        inventory.end_quarantine(brand, phone, actor=inventory_actor, at=at)


@transaction.atomic
def update_subscription(subscription: Subscription, *, actor: Actor, at: dt.datetime, **values) -> Subscription:
    """Move the subscription to another billing account of the customer, or point it at other addresses."""
    require(actor, subscription.brand)
    subscription = lock_subscription(subscription)
    allowed = ("billing_account", "billing_address", "shipping_address", "installation_address")
    unknown = set(values) - set(allowed)
    if unknown:
        raise fail(sorted(unknown)[0], "is not a subscription field you can change here")
    if subscription.status == "terminated":
        raise fail("status", "the subscription is terminated", code="state")
    old = snapshot(subscription, SUBSCRIPTION_FIELDS)
    customer = subscription.customer
    if "billing_account" in values:
        account = own(values["billing_account"], subscription.brand, "billing_account", BillingAccount,
                      customer=customer)
        if account is None or account.status != "active":
            raise fail("billing_account", "give an active billing account of the customer")
        subscription.billing_account = account
    for name in allowed[1:]:
        if name in values:
            setattr(subscription, name, _address(values[name], customer, name))
    if subscription.service_type in ("fixed_line", "broadband", "fiber") and subscription.installation_address is None:
        raise fail("installation_address", f"a {subscription.service_type} subscription needs an installation address")
    subscription.updated_at = max(at, subscription.updated_at)
    subscription.save()
    record_event(actor=actor, at=at, action="update", obj=subscription, brand=subscription.brand, old=old,
                 new=snapshot(subscription, SUBSCRIPTION_FIELDS))
    return subscription


@transaction.atomic
def swap_sim(subscription: Subscription, *, actor: Actor, at: dt.datetime, sim=None, sim_type: str | None = None,
             reason: str = "", reference: str | None = None) -> Subscription:
    """A new SIM card for a mobile subscription (lost, broken, other size); the old card is retired."""
    require(actor, subscription.brand)
    subscription = lock_subscription(subscription)
    if subscription.service_type not in MOBILE_TYPES or subscription.status == "terminated":
        raise fail("sim", "only a live mobile subscription has a SIM card to swap", code="state")
    check_time(subscription, at)
    old = snapshot(subscription, SUBSCRIPTION_FIELDS)
    reference = reservation_reference(subscription.customer) if reference is None else reference
    previous = subscription.sim
    card = from_inventory(inventory.allocate_sim, subscription.brand, sim or None, sim_type=sim_type or None,
                          reference=reference, actor=for_inventory(actor), at=at)
    if previous is not None:
        inventory.retire_sim(subscription.brand, previous, actor=for_inventory(actor), at=at,
                             reason=reason or f"swapped for {card.iccid}")
    subscription.sim = card
    subscription.updated_at = at
    subscription.save(update_fields=["sim", "updated_at"])
    record_event(actor=actor, at=at, action="swap_sim", obj=subscription, brand=subscription.brand, old=old,
                 new=snapshot(subscription, SUBSCRIPTION_FIELDS), message=reason)
    emit("subscription.sim_swapped", brand=subscription.brand, subject=subscription, at=at, actor=actor,
         payload=subscription_facts(subscription, iccid=card.iccid, old_iccid=previous.iccid if previous else None))
    return subscription



def change_number(subscription: Subscription, *, actor: Actor, at: dt.datetime, number=None, group=None,
                  reason: str = "", reference: str | None = None, restore: bool = False) -> Subscription:
    """A new number for a live line with a number from the inventory: the one asked for (reserved for the
    customer or free) or the next free one of `group`. The old number goes to quarantine; the number
    history closes the old number's row at `at` and opens the new one's, so usage rated for either number
    finds the line for its moment.

    `restore=True` takes a quarantined number back (an order's undo returning the line to the number it
    had: its quarantine ends early)."""
    require(actor, subscription.brand)
    subscription = lock_subscription(subscription)
    brand = subscription.brand
    if subscription.service_type not in NUMBER_TYPES or subscription.status == "terminated" \
            or subscription.phone_number_id is None:
        raise fail("number", "only a live line with a number from the inventory can change its number", code="state")
    check_time(subscription, at)
    previous = subscription.phone_number
    if number not in (None, ""):
        digits = number.number if isinstance(number, PhoneNumber) else check("number", clean_number, str(number),
                                                                              brand.country)
        if digits == previous.number:
            raise fail("number", f"the line has +{digits} already")
        if restore:
            held = PhoneNumber.objects.filter(brand=brand, number=digits, status="quarantined").first()
            if held is not None:
                inventory.end_quarantine(brand, held, actor=for_inventory(actor), at=at)
        number = digits
    old = snapshot(subscription, SUBSCRIPTION_FIELDS)
    reference = reservation_reference(subscription.customer) if reference is None else reference
    new = from_inventory(inventory.allocate_number, brand, number or None, group=group, reference=reference,
                         actor=for_inventory(actor), at=at)
    end_number_assignments(subscription, brand=brand, actor=actor, at=at)
    try:
        with transaction.atomic():
            assignment = NumberAssignment.objects.create(brand=brand, subscription=subscription, number=new.number,
                                                         valid_from=at)
    except IntegrityError:
        raise fail("number", f"+{new.number} is held by another subscription at {at:%Y-%m-%d %H:%M}",
                   code="conflict") from None
    record_event(actor=actor, at=at, action="assign", obj=assignment, brand=brand,
                 new=snapshot(assignment, ASSIGNMENT_FIELDS))
    inventory.release_number(brand, previous, actor=for_inventory(actor), at=at)
    subscription.phone_number, subscription.identifier, subscription.updated_at = new, new.number, at
    subscription.save(update_fields=["phone_number", "identifier", "updated_at"])
    record_event(actor=actor, at=at, action="change_number", obj=subscription, brand=brand, old=old,
                 new=snapshot(subscription, SUBSCRIPTION_FIELDS), message=reason)
    emit("subscription.number_changed", brand=brand, subject=subscription, at=at, actor=actor,
         payload=subscription_facts(subscription, number=new.number, old_number=previous.number))
    return subscription
