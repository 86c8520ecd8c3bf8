"""Subscriptions with their historical dates, numbers and SIM cards, and the products on them.

SIM cards and numbers the inventory already holds are allocated when free (a held one is an
error); those it does not hold are created as allocated (a SIM needs its IMSI then). A terminated
line keeps its number history but takes nothing from the inventory.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import connection

from telora.billing.models import ChargeMark
from telora.catalog.constants import SERVICE_TYPES
from telora.catalog.models import Product
from telora.catalog.selectors import catalogue_owners
from telora.core.bulk import assign_ids, copy_objects, new_object
from telora.customers.constants import CIRCUIT_TYPES, MOBILE_TYPES, NUMBER_TYPES
from telora.customers.models import NumberAssignment, ProductInstance, Subscription
from telora.customers.services.subscriptions import commitment_after
from telora.customers.validation import clean_circuit_id
from telora.inventory.models import PhoneNumber, SimCard, is_free
from telora.inventory.validation import InvalidValue, clean_iccid, clean_imsi, clean_number
from telora.migration.services.base import ANY_TEXT, Bad, Context, Ref, choice, moment, text, texts
from telora.migration.services.billed import prefetch_accounts, write_marks
from telora.migration.services.kinds import Kind, same
from telora.migration.services.parties import role_address

STATUSES = ("active", "suspended", "terminated")
NEEDS_INSTALLATION = ("fixed_line", "broadband", "fiber")


def products(ctx: Context) -> dict[str, Product]:
    """Every product of the brand's catalogue by code, sold or not any more (the old system sold it)."""
    if "products" not in ctx.cache:
        found: dict[str, Product] = {}
        for product in Product.objects.filter(brand_id__in=catalogue_owners(ctx.brand)).order_by("-valid_from"):
            if product.code not in found or product.brand_id == ctx.brand.pk:
                found[product.code] = product
        ctx.cache["products"] = found
    return ctx.cache["products"]


def product_of(ctx: Context, row: dict, column: str, kinds: tuple[str, ...], service_type: str) -> Product:
    code = text(row, column, 40, required=True)
    product = products(ctx).get(code)
    if product is None:
        raise Bad(column, f"no product {code!r} in the catalogue of {ctx.brand.code}")
    if product.kind not in kinds:
        raise Bad(column, f"{code} is a {product.kind} product, not {' or '.join(kinds)}")
    if product.service_type and product.service_type != service_type:
        raise Bad(column, f"{code} is for {product.service_type} subscriptions, not {service_type}")
    return product


def _ids(sql: str, brand, values: set) -> list:
    """The first column of `sql` run with the brand and `values` as one array."""
    if not values:
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, [brand.pk, texts(values)])
        return [row[0] for row in cursor.fetchall()]


def _clean(column: str, func, *args) -> str:
    try:
        return func(*args)
    except InvalidValue as exc:
        raise Bad(column, str(exc)) from None


class SubscriptionKind(Kind):
    entity = "subscription"
    model = Subscription
    writes = (PhoneNumber, SimCard, Subscription, ProductInstance, NumberAssignment, ChargeMark)
    required = ("source_id", "customer_id", "account_id", "service_type", "plan", "activated_at")
    optional = ("status", "plan_start", "suspended_at", "terminated_at", "number", "iccid", "imsi", "sim_type",
                "identifier", "installation_address_id", "commitment_end")
    refs = {"customer_id": "customer", "account_id": "account", "installation_address_id": "address"}

    def prepare(self, ctx, rows):
        """The inventory and number history of every number and SIM the file names, in four queries."""
        numbers, iccids, imsis = set(), set(), set()
        cleaned = ctx.cache.setdefault("cleaned", {})  # (column, raw) → clean value, read again by check()
        for _line, row in rows:
            for target, column, func in ((numbers, "number", lambda v: clean_number(v, ctx.brand.country)),
                                         (iccids, "iccid", clean_iccid), (imsis, "imsi", clean_imsi)):
                value = (row.get(column) or "").strip()
                if value:
                    try:
                        clean = func(value)
                    except InvalidValue:
                        continue
                    target.add(clean)
                    cleaned[column, value] = clean
        brand = ctx.brand
        # = ANY(array): one parameter, however many numbers (an IN list of thousands is slow to send)
        found = _ids(f"SELECT id FROM inventory_phonenumber WHERE brand_id = %s AND number = {ANY_TEXT}", brand, numbers)
        ctx.cache["stock_numbers"] = {p.number: p for p in PhoneNumber.objects.filter(pk__in=found)} if found else {}
        found = _ids(f"SELECT id FROM inventory_simcard WHERE brand_id = %s AND iccid = {ANY_TEXT}", brand, iccids)
        ctx.cache["stock_sims"] = {s.iccid: s for s in SimCard.objects.filter(pk__in=found)} if found else {}
        ctx.cache["stock_imsis"] = set(_ids(f"SELECT imsi FROM inventory_simcard WHERE brand_id = %s AND imsi = {ANY_TEXT}",
                                            brand, imsis))
        spans = defaultdict(list)
        with connection.cursor() as cursor:
            cursor.execute("SELECT number, valid_from, valid_to FROM customers_numberassignment "
                           f"WHERE brand_id = %s AND number = {ANY_TEXT}", [brand.pk, texts(numbers)])
            for number, start, end in cursor.fetchall():
                spans[number].append((start, end))
        ctx.cache["spans"] = spans
        identifiers = numbers | {(r.get("identifier") or "").strip() for _l, r in rows}
        ctx.cache["live_identifiers"] = set(_ids(
            f"SELECT identifier FROM customers_subscription WHERE brand_id = %s AND identifier = {ANY_TEXT} "
            "AND status <> 'terminated'", brand, identifiers))
        ctx.cache.setdefault("taken", set())
        products(ctx)
        accounts = (ctx.refs["account"].get((row.get("account_id") or "").strip()) for _line, row in rows)
        prefetch_accounts(ctx, {a.id for a in accounts if a is not None})

    def check(self, ctx, row):
        brand = ctx.brand
        customer = ctx.ref("customer", row, "customer_id")
        account = ctx.ref("account", row, "account_id")
        if not same(account.customer, customer):
            raise Bad("account_id", f"belongs to another customer than {row['customer_id']}")
        service_type = choice(row, "service_type", SERVICE_TYPES)
        plan = product_of(ctx, row, "plan", ("plan",), service_type)
        status = choice(row, "status", STATUSES, "active")
        activated = moment(row, "activated_at", brand, required=True)
        plan_start = moment(row, "plan_start", brand) or activated
        suspended = moment(row, "suspended_at", brand, required=status == "suspended")
        terminated = moment(row, "terminated_at", brand, required=status == "terminated")
        if status != "suspended":
            suspended = None
        if status != "terminated":
            terminated = None
        for column, value, earliest in (("activated_at", activated, None), ("plan_start", plan_start, activated),
                                        ("suspended_at", suspended, activated),
                                        ("terminated_at", terminated, activated)):
            if value is None:
                continue
            if value > ctx.at:
                raise Bad(column, f"{value:%Y-%m-%d %H:%M} is in the future")
            if earliest is not None and value < earliest:
                raise Bad(column, f"{value:%Y-%m-%d %H:%M} is before activated_at")
        live = status != "terminated"
        sub = new_object(Subscription, brand_id=brand.pk, service_type=service_type, status=status, created_at=activated,
                           activated_at=activated, suspended_at=suspended, terminated_at=terminated,
                           updated_at=max(v for v in (activated, plan_start, suspended, terminated) if v))
        number = sim = None
        new_number = new_sim = None
        if service_type in NUMBER_TYPES:
            raw = text(row, "number", 32, required=True)
            digits = ctx.cache["cleaned"].get(("number", raw)) or _clean("number", clean_number, raw, brand.country)
            sub.identifier = digits
            for start, end in ctx.cache["spans"][digits]:
                if (end is None or end > activated) and (terminated is None or terminated > start):
                    raise Bad("number", f"+{digits} was held by another subscription over these dates")
            if live:
                number, new_number = self._number(ctx, digits)
        else:
            if text(row, "number", 32):
                raise Bad("number", f"a {service_type} subscription has no phone number")
            if service_type in CIRCUIT_TYPES or text(row, "identifier", 64):
                sub.identifier = _clean("identifier", clean_circuit_id, text(row, "identifier", 64))
        if live and sub.identifier:
            if sub.identifier in ctx.cache["live_identifiers"]:
                raise Bad("identifier" if service_type not in NUMBER_TYPES else "number",
                          f"{sub.identifier} belongs to another live subscription")
        if service_type in MOBILE_TYPES and live:
            sim, new_sim = self._sim(ctx, row)
        elif text(row, "iccid", 32):
            if service_type not in MOBILE_TYPES:
                raise Bad("iccid", f"only mobile subscriptions have a SIM card, not {service_type}")
        installation = ctx.ref("address", row, "installation_address_id", required=False)
        if installation is not None and not same(installation.customer, customer):
            raise Bad("installation_address_id", f"belongs to another customer than {row['customer_id']}")
        installation = installation or role_address(customer, "installation")
        if installation is None and service_type in NEEDS_INSTALLATION:
            raise Bad("installation_address_id", f"a {service_type} subscription needs an installation address")
        commitment = moment(row, "commitment_end", brand)
        sub.commitment_end = commitment or commitment_after(None, plan, plan_start, brand)
        if live and sub.identifier:
            ctx.cache["live_identifiers"].add(sub.identifier)
        if sub.identifier and service_type in NUMBER_TYPES:
            ctx.cache["spans"][sub.identifier].append((activated, terminated))
        instance = new_object(ProductInstance, brand_id=brand.pk, product_id=plan.pk, kind="plan", start_at=plan_start,
                                   end_at=terminated, end_reason="terminated" if terminated else "",
                                   created_at=ctx.at)
        assignment = (new_object(NumberAssignment, brand_id=brand.pk, number=sub.identifier, valid_from=activated,
                                       valid_to=terminated) if service_type in NUMBER_TYPES else None)
        plan_ref = Ref(id=None, code=plan.code, kind="plan", start=plan_start, end=terminated)
        ref = Ref(id=None, customer=customer, account=account, service_type=service_type, status=status,
                  activated=activated, terminated=terminated, plan_start=plan_start,
                  prepaid=(plan.service_type or "").endswith("prepaid"), products={plan.code: plan_ref},
                  installation=installation, plan=plan_ref)
        return (sub, instance, assignment, number, new_number, sim, new_sim), ref

    def _number(self, ctx, digits: str):
        if digits in ctx.cache["taken"]:
            raise Bad("number", f"+{digits} is given to two subscriptions in this import")
        ctx.cache["taken"].add(digits)
        item = ctx.cache["stock_numbers"].get(digits)
        if item is None:
            return new_object(PhoneNumber, brand_id=ctx.brand.pk, number=digits, status="allocated", created_at=ctx.at,
                               updated_at=ctx.at), True
        # allocated by an inventory import for the migration (status allocated) but held by no live
        # subscription: the line takes it (one held by a live subscription is refused below)
        taken_for_migration = item.status == "allocated" and digits not in ctx.cache["live_identifiers"]
        if not is_free(item, ctx.at) and not taken_for_migration:
            raise Bad("number", f"+{digits} is {item.status} in the inventory")
        return item, False

    def _sim(self, ctx, row):
        raw = text(row, "iccid", 32, required=True)
        iccid = ctx.cache["cleaned"].get(("iccid", raw)) or _clean("iccid", clean_iccid, raw)
        if iccid in ctx.cache["taken"]:
            raise Bad("iccid", f"{iccid} is given to two subscriptions in this import")
        item = ctx.cache["stock_sims"].get(iccid)
        if item is not None:
            if not is_free(item, ctx.at):
                raise Bad("iccid", f"{iccid} is {item.status} in the inventory")
            ctx.cache["taken"].add(iccid)
            return item, False
        imsi = text(row, "imsi", 20)
        if not imsi:
            raise Bad("imsi", f"is required: the inventory has no SIM card {iccid}, so the import creates it")
        imsi = ctx.cache["cleaned"].get(("imsi", imsi)) or _clean("imsi", clean_imsi, imsi)
        if imsi in ctx.cache["stock_imsis"]:
            raise Bad("imsi", f"{imsi} belongs to another SIM card")
        ctx.cache["stock_imsis"].add(imsi)
        ctx.cache["taken"].add(iccid)
        return new_object(SimCard, brand_id=ctx.brand.pk, iccid=iccid, imsi=imsi, sim_type=text(row, "sim_type", 40),
                       batch=f"migration {ctx.source_system}"[:100], status="allocated",
                       created_at=ctx.at, updated_at=ctx.at), True

    def write(self, ctx, planned):
        subs = [p[0][0] for p in planned]
        new_numbers = [p[0][3] for p in planned if p[0][4]]
        new_sims = [p[0][5] for p in planned if p[0][6]]
        held_numbers = [p[0][3] for p in planned if p[0][3] is not None and not p[0][4]]
        held_sims = [p[0][5] for p in planned if p[0][5] is not None and not p[0][6]]
        for (_sub, _i, _a, number, _n, sim, _s), ref in planned:
            for item in (number, sim):
                if item is not None:
                    item.status, item.allocated_at, item.updated_at = "allocated", ref.activated, ctx.at
                    item.reserved_until, item.reserved_for = None, ""
            if number is not None:
                number.quarantine_until = None
        copy_objects(PhoneNumber, new_numbers, with_ids=True)
        copy_objects(SimCard, new_sims, with_ids=True)
        fields = ["status", "allocated_at", "updated_at", "reserved_until", "reserved_for"]
        PhoneNumber.objects.bulk_update(held_numbers, [*fields, "quarantine_until"], batch_size=1000)
        SimCard.objects.bulk_update(held_sims, fields, batch_size=1000)
        assign_ids(Subscription, subs)
        instances, assignments = [], []
        for (sub, instance, assignment, number, _n, sim, _s), ref in planned:
            # the new rows' attributes set in their __dict__: no related object is cached on them,
            # so the foreign key descriptors' checks (eight a line) have nothing to do
            state = sub.__dict__
            ref.id = pk = state["id"]
            state["customer_id"], state["billing_account_id"] = ref.customer.id, ref.account.id
            state["phone_number_id"] = number.__dict__["id"] if number is not None else None
            state["sim_id"] = sim.__dict__["id"] if sim is not None else None
            if ref.installation is not None and sub.service_type in ("fixed_line", "broadband", "fiber", "tv"):
                state["installation_address_id"] = ref.installation.id
            instance.__dict__["subscription_id"] = pk
            instances.append(instance)
            if assignment is not None:
                assignment.__dict__["subscription_id"] = pk
                assignments.append(assignment)
        copy_objects(Subscription, subs, ids_given=True)
        copy_objects(ProductInstance, instances, with_ids=True)
        copy_objects(NumberAssignment, assignments)
        for (_sub, instance, *_rest), ref in planned:
            ref.plan.id = instance.pk
        write_marks(ctx, [(sub.pk, sub.billing_account_id, ref.prepaid, instance)
                          for (sub, instance, *_rest), ref in planned])

    def load(self, ctx, ids):
        refs = {}
        for s in Subscription.objects.filter(brand=ctx.brand, pk__in=ids):
            refs[s.pk] = Ref(id=s.pk, customer=Ref(id=s.customer_id), account=Ref(id=s.billing_account_id),
                             service_type=s.service_type, status=s.status, activated=s.activated_at,
                             terminated=s.terminated_at, plan_start=None, prepaid=False, products={},
                             installation=None, anchor_day=None)
        rows = (ProductInstance.objects.filter(subscription_id__in=ids).select_related("product")
                .order_by("start_at", "id"))
        for i in rows:
            ref = refs[i.subscription_id]
            ref.products[i.product.code] = Ref(id=i.pk, code=i.product.code, kind=i.kind, start=i.start_at,
                                               end=i.end_at)
            if i.kind == "plan" and i.end_at is None:
                ref.plan_start = i.start_at
                ref.prepaid = (i.product.service_type or "").endswith("prepaid")
        return refs


class ProductKind(Kind):
    """Add-ons (and earlier plans, ended before the current one started) with their dates."""

    entity = "product"
    model = ProductInstance
    writes = (ProductInstance, ChargeMark)
    required = ("source_id", "subscription_id", "product", "start_at")
    optional = ("end_at",)
    refs = {"subscription_id": "subscription"}

    def prepare(self, ctx, rows):
        products(ctx)
        subs = (ctx.refs["subscription"].get((row.get("subscription_id") or "").strip()) for _line, row in rows)
        prefetch_accounts(ctx, {s.account.id for s in subs if s is not None})

    def check(self, ctx, row):
        sub = ctx.ref("subscription", row, "subscription_id")
        product = product_of(ctx, row, "product", ("plan", "addon", "one_time", "device"), sub.service_type)
        start = moment(row, "start_at", ctx.brand, required=True)
        end = moment(row, "end_at", ctx.brand)
        if sub.activated is not None and start < sub.activated:
            raise Bad("start_at", "is before the subscription's activated_at")
        if start > ctx.at:
            raise Bad("start_at", f"{start:%Y-%m-%d %H:%M} is in the future")
        if end is not None and end < start:
            raise Bad("end_at", "is before start_at")
        if sub.terminated is not None and start > sub.terminated:
            raise Bad("start_at", "is after the subscription was terminated")
        reason = "removed" if end is not None else ""
        if product.kind in ("one_time", "device"):
            end, reason = start, "once"
        elif product.kind == "plan":
            if end is None or (sub.plan_start is not None and end > sub.plan_start):
                raise Bad("end_at", "an earlier plan must end by the current plan's start (plan_start)")
            reason = "plan_change"
        elif sub.terminated is not None and (end is None or end > sub.terminated):
            end, reason = sub.terminated, "terminated"
        instance = new_object(ProductInstance, brand_id=ctx.brand.pk, product_id=product.pk, kind=product.kind, start_at=start, end_at=end,
                                   end_reason=reason, created_at=ctx.at)
        ref = Ref(id=None, code=product.code, kind=product.kind, start=start, end=end, subscription=sub)
        if end is None or end > ctx.at:
            sub.products[product.code] = ref
        return instance, ref

    def write(self, ctx, planned):
        for instance, ref in planned:
            instance.subscription_id = ref.subscription.id
        copy_objects(ProductInstance, [i for i, _ref in planned], with_ids=True)
        for instance, ref in planned:
            ref.id = instance.pk
        write_marks(ctx, [(instance.subscription_id, ref.subscription.account.id, ref.subscription.prepaid, instance)
                          for instance, ref in planned])

    def load(self, ctx, ids):
        return {i.pk: Ref(id=i.pk, code=i.product.code, kind=i.kind, start=i.start_at, end=i.end_at,
                          subscription=Ref(id=i.subscription_id))
                for i in ProductInstance.objects.filter(brand=ctx.brand, pk__in=ids).select_related("product")}
