"""Customers, their addresses and contacts, and billing accounts: checked with the customers
app's own field rules, written with COPY, numbered from the brand's sequences."""

from __future__ import annotations

from django.db.models import Count

from telora.catalog.models import BillCycle, BillingGroup, CustomerGroup, in_effect
from telora.catalog.selectors import catalogue_owners
from telora.core.bulk import assign_ids, copy_objects, new_object
from telora.core.models import Sequence
from telora.core.services.actors import ServiceError
from telora.core.services.sequences import next_numbers
from telora.customers.constants import CUSTOMER_KINDS, INVOICE_DELIVERIES, PAYMENT_METHODS
from telora.customers.models import Address, BillingAccount, Contact, Customer
from telora.customers.services.common import clean_email, no_pan
from telora.customers.services.customers import _apply as apply_customer
from telora.customers.services.customers import _apply_address as apply_address
from telora.customers.services.customers import _apply_contact as apply_contact
from telora.migration.services.base import Bad, Context, Ref, amount, choice, day, moment, text
from telora.migration.services.billed import billed_through_of
from telora.migration.services.kinds import Kind, same

CUSTOMER_TEXTS = ("first_name", "last_name", "company_name", "id_type", "id_number", "registration_number",
                  "vat_number", "language", "email", "phone", "notes", "status")


def catalogue(ctx: Context, model, name: str) -> dict:
    """code → row of a catalogue model the brand may use today (its own catalogue wins)."""
    key = ("catalogue", model)
    if key not in ctx.cache:
        owners = catalogue_owners(ctx.brand)
        rows = {}
        for row in model.objects.filter(brand_id__in=owners):
            if in_effect(row, ctx.today) and (row.code not in rows or row.brand_id == ctx.brand.pk):
                rows[row.code] = row
        ctx.cache[key] = rows
    return ctx.cache[key]


def catalogue_row(ctx: Context, model, row: dict, column: str):
    code = text(row, column, 40)
    if not code:
        return None
    found = catalogue(ctx, model, column).get(code)
    if found is None:
        raise Bad(column, f"no {model._meta.verbose_name} {code!r} in the catalogue of {ctx.brand.code} today")
    return found


class CustomerKind(Kind):
    entity = "customer"
    model = Customer
    writes = (Customer,)
    required = ("source_id", "kind")
    optional = (*CUSTOMER_TEXTS, "birth_date", "customer_group", "parent_id", "created_at")
    refs = {"parent_id": "customer"}

    def prepare(self, ctx, rows):
        catalogue(ctx, CustomerGroup, "customer_group")

    def check(self, ctx, row):
        kind = choice(row, "kind", CUSTOMER_KINDS)
        values = {name: row.get(name) or "" for name in CUSTOMER_TEXTS}
        values["birth_date"] = day(row, "birth_date")
        created = moment(row, "created_at", ctx.brand) or ctx.at
        customer = new_object(Customer, brand_id=ctx.brand.pk, kind=kind, created_at=created, updated_at=ctx.at)
        try:
            apply_customer(customer, {"kind": kind, **values}, ctx.brand, ctx.at)
        except ServiceError as exc:
            raise Bad.of(exc) from None
        if customer.status == "closed":
            raise Bad("status", "closed customers are not migrated (import them active and close them after)")
        group = catalogue_row(ctx, CustomerGroup, row, "customer_group")
        customer.customer_group_id = group.pk if group is not None else None
        parent = ctx.ref("customer", row, "parent_id", required=False)
        if parent is not None and parent.kind != "business":
            raise Bad("parent_id", f"{row['parent_id']} is a private customer; only business customers have children")
        ref = Ref(id=None, number=None, name=customer.name, email=customer.email, kind=kind,
                  status=customer.status, addresses=[], accounts=0, parent=parent)
        return customer, ref

    def write(self, ctx, planned):
        customers = [c for c, _ref in planned]
        assign_ids(Customer, customers)
        numbers = next_numbers(ctx.brand, "customer", len(customers), at=ctx.at)
        for (customer, ref), number in zip(planned, numbers, strict=True):
            ref.id, ref.number = customer.pk, number
            customer.number = number
        for customer, ref in planned:
            customer.parent_id = ref.parent.id if ref.parent is not None else None
        copy_objects(Customer, customers, ids_given=True)

    def load(self, ctx, ids):
        refs = {}
        rows = Customer.objects.filter(brand=ctx.brand, pk__in=ids).annotate(n_accounts=Count("accounts"))
        for c in rows:
            refs[c.pk] = Ref(id=c.pk, number=c.number, name=c.name, email=c.email, kind=c.kind, status=c.status,
                             addresses=[], accounts=c.n_accounts, parent=None)
        for a in Address.objects.filter(customer_id__in=ids).order_by("id"):
            refs[a.customer_id].addresses.append(Ref(id=a.pk, roles=list(a.roles), customer=refs[a.customer_id]))
        return refs


class AddressKind(Kind):
    entity = "address"
    model = Address
    writes = (Address,)
    required = ("source_id", "customer_id", "street1", "postcode", "city")
    optional = ("roles", "street2", "state", "country")
    refs = {"customer_id": "customer"}

    def check(self, ctx, row):
        customer = ctx.ref("customer", row, "customer_id")
        roles = [r for r in text(row, "roles", 100).replace(";", " ").replace("|", " ").replace(",", " ").split() if r]
        address = new_object(Address, brand_id=ctx.brand.pk, created_at=ctx.at, updated_at=ctx.at)
        values = {name: row.get(name) or "" for name in ("street1", "street2", "postcode", "city", "state", "country")}
        try:
            apply_address(address, {**values, "roles": roles or ["legal"]}, ctx.brand)
        except ServiceError as exc:
            raise Bad.of(exc) from None
        ref = Ref(id=None, roles=list(address.roles), customer=customer)
        customer.addresses.append(ref)
        return address, ref

    def write(self, ctx, planned):
        for address, ref in planned:
            address.customer_id = ref.customer.id
        copy_objects(Address, [a for a, _ref in planned], with_ids=True)
        for address, ref in planned:
            ref.id = address.pk

    def load(self, ctx, ids):
        return {a.pk: Ref(id=a.pk, roles=list(a.roles), customer=Ref(id=a.customer_id))
                for a in Address.objects.filter(brand=ctx.brand, pk__in=ids)}


class ContactKind(Kind):
    entity = "contact"
    model = Contact
    writes = (Contact,)
    required = ("source_id", "customer_id", "last_name")
    optional = ("role", "first_name", "email", "phone")
    refs = {"customer_id": "customer"}

    def check(self, ctx, row):
        customer = ctx.ref("customer", row, "customer_id")
        contact = new_object(Contact, brand_id=ctx.brand.pk, created_at=ctx.at, updated_at=ctx.at, role="primary")
        values = {name: row.get(name) or "" for name in ("role", "first_name", "last_name", "email", "phone")}
        try:
            apply_contact(contact, values, ctx.brand)
        except ServiceError as exc:
            raise Bad.of(exc) from None
        return contact, Ref(id=None, customer=customer)

    def write(self, ctx, planned):
        for contact, ref in planned:
            contact.customer_id = ref.customer.id
        copy_objects(Contact, [c for c, _ref in planned], with_ids=True)
        for contact, ref in planned:
            ref.id = contact.pk

    def load(self, ctx, ids):
        return {c.pk: Ref(id=c.pk, customer=Ref(id=c.customer_id))
                for c in Contact.objects.filter(brand=ctx.brand, pk__in=ids)}


def role_address(customer: Ref, *roles: str) -> Ref | None:
    for role in roles:
        for address in customer.addresses:
            if role in address.roles:
                return address
    return None


class AccountKind(Kind):
    """As `create_billing_account` decides: the group's cycle (else the brand's first cycle), the
    customer's e-mail and billing (else legal) address by default, no card numbers."""

    entity = "account"
    model = BillingAccount
    writes = (BillingAccount,)
    required = ("source_id", "customer_id")
    optional = ("name", "bill_cycle", "billing_group", "invoice_delivery", "invoice_email", "payment_method",
                "payment_method_ref", "credit_limit", "billing_address_id", "created_at", "billed_through")
    refs = {"customer_id": "customer", "billing_address_id": "address"}

    def prepare(self, ctx, rows):
        catalogue(ctx, BillingGroup, "billing_group")
        catalogue(ctx, BillCycle, "bill_cycle")

    def check(self, ctx, row):
        customer = ctx.ref("customer", row, "customer_id")
        group = catalogue_row(ctx, BillingGroup, row, "billing_group")
        cycle = catalogue_row(ctx, BillCycle, row, "bill_cycle")
        if cycle is None and group is not None and group.bill_cycle_id:
            cycle = next((c for c in catalogue(ctx, BillCycle, "").values() if c.pk == group.bill_cycle_id), None)
        if cycle is None:
            cycles = catalogue(ctx, BillCycle, "bill_cycle")
            cycle = cycles[min(cycles)] if cycles else None
        delivery = choice(row, "invoice_delivery", INVOICE_DELIVERIES, "email")
        try:
            email = clean_email("invoice_email", text(row, "invoice_email", 254))
            reference = no_pan("payment_method_ref", text(row, "payment_method_ref", 100))
        except ServiceError as exc:
            raise Bad.of(exc) from None
        if delivery == "email" and not email:
            email = customer.email
            if not email:
                raise Bad("invoice_email", "invoices go by e-mail: give an address (the customer has none)")
        address = ctx.ref("address", row, "billing_address_id", required=False)
        if address is not None and not same(address.customer, customer):
            raise Bad("billing_address_id", f"belongs to another customer than {row['customer_id']}")
        address = address or role_address(customer, "billing", "legal")
        if delivery == "print" and address is None:
            raise Bad("billing_address_id", "printed invoices need a postal address: import a billing address")
        limit = amount(row, "credit_limit") or 0
        if limit < 0:
            raise Bad("credit_limit", "must be zero or more")
        created = moment(row, "created_at", ctx.brand) or ctx.at
        anchor_day = cycle.anchor_day if cycle else 1
        billed_through = billed_through_of(ctx, row, anchor_day)
        account = new_object(
            BillingAccount, brand_id=ctx.brand.pk, name=text(row, "name", 200) or customer.name, status="active",
            bill_cycle_id=cycle.pk if cycle else None, billing_group_id=group.pk if group else None, invoice_delivery=delivery, invoice_email=email, currency=ctx.brand.currency,
            credit_limit=limit, payment_method=choice(row, "payment_method", PAYMENT_METHODS, "invoice"),
            payment_method_ref=reference, created_at=created, updated_at=ctx.at)
        ref = Ref(id=None, customer=customer, address=address, anchor_day=anchor_day, currency=ctx.brand.currency,
                  billed_through=billed_through)
        return account, ref

    def write(self, ctx, planned):
        accounts = [a for a, _ref in planned]
        numbered = Sequence.objects.filter(brand=ctx.brand, code="account").exists()
        numbers = next_numbers(ctx.brand, "account", len(accounts), at=ctx.at) if numbered else None
        for n, (account, ref) in enumerate(planned):
            account.customer_id = ref.customer.id
            account.billing_address_id = ref.address.id if ref.address is not None else None
            if numbers:
                account.number = numbers[n]
            else:
                ref.customer.accounts += 1
                account.number = f"{ref.customer.number}-{ref.customer.accounts}"
        copy_objects(BillingAccount, accounts, with_ids=True)
        for account, ref in planned:
            ref.id = account.pk

    def load(self, ctx, ids):
        rows = BillingAccount.objects.filter(brand=ctx.brand, pk__in=ids).select_related("bill_cycle")
        return {a.pk: Ref(id=a.pk, customer=Ref(id=a.customer_id), address=None, currency=a.currency,
                          anchor_day=a.bill_cycle.anchor_day if a.bill_cycle else 1) for a in rows}
