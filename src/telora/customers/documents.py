"""Customers and subscriptions with everything their API documents show, read in one or two statements.

The API's most frequent calls are reads of one customer or subscription (TMF629, TMF637,
/api/v1/subscriptions). Through the ORM each took five or six queries and about 3 ms of CPU,
most of it building SQL (select_related over three tables, two prefetches); under a load of
20 clients that CPU was the limit. These functions read the same rows with hand-written SQL
(columns of the main table taken from the model, so new fields come along) and hand back
ordinary model instances with their related objects and prefetched lists attached, so the
renderers and schemas read them as before. A related object carries only the fields the API
shows; reading another one would cost a query (the query-count tests would notice).

Rights: `brand_ids` is what `rights.brands_with(principal, "customers.view")` (or
`api.auth.require_perm`) returned, `rights.ALL` or a list, the same rule `for_user` applies.
The rows come back in the order of `ids`; ids the caller may not see are left out.
"""

from __future__ import annotations

import functools

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import QuerySet

from telora.catalog.models import CustomerGroup, Product
from telora.core import rights
from telora.core.models import Brand
from telora.customers.models import Address, BillingAccount, Customer, ProductInstance, Subscription
from telora.inventory.models import SimCard

MAX_ID = 2**63 - 1


def _columns(model, alias: str) -> tuple[str, list[str]]:
    fields = model._meta.concrete_fields
    return ", ".join(f'{alias}."{f.column}"' for f in fields), [f.attname for f in fields]


def _make(model, names: list[str], values):
    """An instance with the named fields loaded (from_db takes the values in the model's field order)."""
    order = _field_order(model, tuple(names))
    if order is not None:
        values = [values[i] for i in order]
        names = [names[i] for i in order]
    return model.from_db(DEFAULT_DB_ALIAS, names, values)


@functools.cache
def _field_order(model, names: tuple[str, ...]) -> list[int] | None:
    """Positions of `names` in the model's field order; None when they are in that order already."""
    position = {f.attname: i for i, f in enumerate(model._meta.concrete_fields)}
    order = sorted(range(len(names)), key=lambda i: position[names[i]])
    return None if order == list(range(len(names))) else order


def _attach(instance, name: str, model, items: list) -> None:
    """`instance.<name>.all()` answers `items` without a query, as after prefetch_related."""
    cached = QuerySet(model=model)
    cached._result_cache = items
    cached._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[name] = cached


def _scope(ids, brand_ids) -> tuple[list[int], bool, list[int]]:
    wanted = [int(i) for i in ids if 0 < int(i) <= MAX_ID]
    every = brand_ids is rights.ALL
    return wanted, every, [] if every else list(brand_ids)


ADDRESS_FIELDS = ["id", "roles", "street1", "street2", "postcode", "city", "state", "country"]
_ADDRESS_JSON = "json_build_array(a.id, a.roles, a.street1, a.street2, a.postcode, a.city, a.state, a.country)"


def customers(brand_ids, ids) -> list[Customer]:
    """Customers with brand (code), customer group (code), parent (name), addresses and billing
    accounts (id, number, name): what the TMF629 Customer shows."""
    wanted, every, brands = _scope(ids, brand_ids)
    if not wanted:
        return []
    columns, names = _columns(Customer, "c")
    sql = f"""
        SELECT {columns}, b.code, g.code, p.name,
               ARRAY(SELECT {_ADDRESS_JSON} FROM customers_address a WHERE a.customer_id = c.id ORDER BY a.id),
               ARRAY(SELECT json_build_array(x.id, x.number, x.name) FROM customers_billingaccount x
                     WHERE x.customer_id = c.id ORDER BY x.brand_id, x.number)
        FROM customers_customer c
        JOIN core_brand b ON b.id = c.brand_id
        LEFT JOIN catalog_customergroup g ON g.id = c.customer_group_id
        LEFT JOIN customers_customer p ON p.id = c.parent_id
        WHERE c.id = ANY(%s) AND (%s OR c.brand_id = ANY(%s))"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [wanted, every, brands])
        rows = cursor.fetchall()
    found = {}
    n = len(names)
    for row in rows:
        customer = _make(Customer, names, row[:n])
        brand_code, group_code, parent_name, addresses, accounts = row[n:]
        customer.brand = _make(Brand, ["id", "code"], [customer.brand_id, brand_code])
        if customer.customer_group_id is not None:
            customer.customer_group = _make(CustomerGroup, ["id", "code"], [customer.customer_group_id, group_code])
        if customer.parent_id is not None:
            customer.parent = _make(Customer, ["id", "name"], [customer.parent_id, parent_name])
        _attach(customer, "addresses", Address, [_address(item, customer) for item in addresses])
        _attach(customer, "accounts", BillingAccount,
                [_make(BillingAccount, ["id", "number", "name", "customer_id", "brand_id"],
                       [*item, customer.pk, customer.brand_id]) for item in accounts])
        found[customer.pk] = customer
    return [found[i] for i in wanted if i in found]


def _address(item, customer=None) -> Address:
    address = _make(Address, ADDRESS_FIELDS, item)
    if customer is not None:
        address.customer_id, address.brand_id = customer.pk, customer.brand_id
    return address


def subscriptions(brand_ids, ids) -> list[Subscription]:
    """Subscriptions with brand (code), customer and billing account (number, name), SIM (ICCID),
    their three addresses and every product instance with its product (code, name, commitment):
    what TMF637 Product and /api/v1/subscriptions show. Two statements."""
    wanted, every, brands = _scope(ids, brand_ids)
    if not wanted:
        return []
    columns, names = _columns(Subscription, "s")

    def address(column: str) -> str:
        return f"(SELECT {_ADDRESS_JSON} FROM customers_address a WHERE a.id = s.{column})"

    sql = f"""
        SELECT {columns}, b.code, cu.number, cu.name, ba.number, ba.name, sim.iccid,
               {address("installation_address_id")}, {address("billing_address_id")},
               {address("shipping_address_id")}
        FROM customers_subscription s
        JOIN core_brand b ON b.id = s.brand_id
        JOIN customers_customer cu ON cu.id = s.customer_id
        JOIN customers_billingaccount ba ON ba.id = s.billing_account_id
        LEFT JOIN inventory_simcard sim ON sim.id = s.sim_id
        WHERE s.id = ANY(%s) AND (%s OR s.brand_id = ANY(%s))"""
    instance_columns, instance_names = _columns(ProductInstance, "i")
    products_sql = f"""
        SELECT {instance_columns}, p.code, p.name, p.commitment_months
        FROM customers_productinstance i JOIN catalog_product p ON p.id = i.product_id
        WHERE i.subscription_id = ANY(%s) ORDER BY i.subscription_id, i.start_at, i.id"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [wanted, every, brands])
        rows = cursor.fetchall()
        if rows:
            cursor.execute(products_sql, [[row[0] for row in rows]])
            product_rows = cursor.fetchall()
        else:
            product_rows = []
    found = {}
    n = len(names)
    for row in rows:
        sub = _make(Subscription, names, row[:n])
        brand_code, customer_number, customer_name, account_number, account_name, iccid, *places = row[n:]
        sub.brand = _make(Brand, ["id", "code"], [sub.brand_id, brand_code])
        sub.customer = _make(Customer, ["id", "brand_id", "number", "name"],
                             [sub.customer_id, sub.brand_id, customer_number, customer_name])
        sub.billing_account = _make(BillingAccount, ["id", "brand_id", "customer_id", "number", "name"],
                                    [sub.billing_account_id, sub.brand_id, sub.customer_id, account_number,
                                     account_name])
        if sub.sim_id is not None:
            sub.sim = _make(SimCard, ["id", "iccid"], [sub.sim_id, iccid])
        for field, item in zip(("installation_address", "billing_address", "shipping_address"), places,
                               strict=True):
            if item is not None:
                setattr(sub, field, _address(item))
        _attach(sub, "products", ProductInstance, [])
        found[sub.pk] = sub
    m = len(instance_names)
    for row in product_rows:
        instance = _make(ProductInstance, instance_names, row[:m])
        code, name, months = row[m:]
        instance.product = _make(Product, ["id", "code", "name", "commitment_months"],
                                 [instance.product_id, code, name, months])
        found[instance.subscription_id]._prefetched_objects_cache["products"]._result_cache.append(instance)
    return [found[i] for i in wanted if i in found]
