"""The API's frequent reads (TMF629, TMF637, /api/v1/subscriptions, a customer's addresses): a fixed
number of queries whatever the number of rows (no N+1), and the same documents the ORM gives."""

import pytest
from django.db import connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext

from telora.core import clock, rights
from telora.customers import documents
from telora.customers import services as s
from telora.customers.api.schemas import SubscriptionOut
from telora.customers.models import Customer, ProductInstance, Subscription
from telora.customers.tmf import customer as tmf_customer
from telora.customers.tmf import product as tmf_product

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept")]
CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
PRODUCTS = "/tmf-api/productInventory/v4/product"


def _add_customers(shop, system, count: int, start: int) -> list[Customer]:
    """Customers with an address, a billing account and an active fiber line each."""
    made = []
    for i in range(start, start + count):
        customer = s.create_customer(shop, actor=system, at=clock.now(), kind="private", first_name="Kim",
                                     last_name=f"Jansen {i}", email=f"kim{i}@example.com")
        address = s.add_address(customer, actor=system, at=clock.now(), street1=f"Dorpsstraat {i}",
                                postcode="1234 AB", city="Utrecht", roles=["legal", "billing", "installation"])
        account = s.create_billing_account(customer, actor=system, at=clock.now())
        s.create_subscription(customer, actor=system, at=clock.now(), billing_account=account, service_type="fiber",
                              plan="FIBER_500", identifier=f"CIRCUIT-{i}", installation_address=address)
        made.append(customer)
    return made


def _reads(customer: Customer) -> dict[str, str]:
    sub = customer.subscriptions.get()
    return {
        "customer": f"{CUSTOMERS}/{customer.pk}",
        "customer list": f"{CUSTOMERS}?limit=50",
        "product": f"{PRODUCTS}/{sub.pk}",
        "product list": f"{PRODUCTS}?limit=50",
        "subscription": f"/api/v1/subscriptions/{sub.pk}",
        "subscription list": "/api/v1/subscriptions?limit=50",
        "addresses": f"/api/v1/customers/{customer.pk}/addresses",
    }


def _counts(client, urls: dict[str, str]) -> dict[str, tuple[int, int]]:
    """name -> (queries, items in the answer)."""
    client.get(urls["customer"])  # the key's last-used time is written on its first use (then once a minute)
    counts = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.json())
        body = response.json()
        counts[name] = (len(queries), len(body) if isinstance(body, list) else 1)
    return counts


def test_reads_take_the_same_queries_for_1_and_20_rows(csr_api, shop, system):
    first = _add_customers(shop, system, 1, 0)[0]
    one = _counts(csr_api, _reads(first))
    _add_customers(shop, system, 19, 1)
    twenty = _counts(csr_api, _reads(first))
    assert {name: n for name, (n, _items) in one.items()} == {name: n for name, (n, _items) in twenty.items()}
    assert twenty["customer list"][1] == twenty["product list"][1] == twenty["subscription list"][1] == 20
    # key and rights in one statement, then the document in one (customers) or two (subscriptions);
    # lists add their count and the page's ids.
    assert {name: n for name, (n, _items) in twenty.items()} == {
        "customer": 2, "customer list": 4, "product": 3, "product list": 5, "subscription": 3,
        "subscription list": 5, "addresses": 2}


def test_a_customer_out_of_reach_is_404_on_the_fast_reads(csr_api, ann, mobile, other_shop, system):
    stranger = _add_customers(other_shop, system, 1, 50)[0]
    for url in _reads(stranger).values():
        response = csr_api.get(url)
        if url.endswith("limit=50"):
            assert all(item["id"] not in (str(stranger.pk), stranger.pk) for item in response.json())
        else:
            assert response.status_code == 404, url
            assert response.json()["code"] == "not_found"
    assert csr_api.get(f"{CUSTOMERS}/{2**63}").status_code == 404
    assert csr_api.get(f"{PRODUCTS}/{2**70}").status_code == 404


def _orm_customer(pk: int) -> Customer:
    return Customer.objects.select_related("brand", "customer_group", "parent").prefetch_related(
        "addresses", "accounts").get(pk=pk)


def _orm_subscription(pk: int) -> Subscription:
    instances = Prefetch("products", queryset=ProductInstance.objects.select_related("product"))
    return Subscription.objects.select_related(
        "brand", "customer", "billing_account", "sim", "installation_address", "billing_address",
        "shipping_address").prefetch_related(instances).get(pk=pk)


def test_documents_render_as_the_orm_objects_do(csr_api, ann, mobile, system):
    created = csr_api.post(CUSTOMERS, {
        "name": "Acme Trading BV", "engagedParty": {"id": "new", "@referredType": "Organization"},
        "characteristic": [{"name": "customerGroup", "value": "SME"}, {"name": "vatNumber", "value": "NL004495445B01"}],
        "contactMedium": [{"mediumType": "postalAddress", "characteristic": {
            "contactType": "legal,billing", "street1": "Kade 1", "street2": "3rd floor", "postCode": "1011 AA",
            "city": "Amsterdam", "stateOrProvince": "NH"}}]}).json()
    child = csr_api.post(CUSTOMERS, {"name": "Acme Retail BV", "engagedParty": {"@referredType": "Organization",
                                                                                  "id": "new"},
                                     "relatedParty": [{"id": created["id"], "role": "parent"}]}).json()
    s.create_billing_account(Customer.objects.get(pk=created["id"]), actor=system, at=clock.now(), name="Second",
                             invoice_email="office@acme.example")
    s.suspend_subscription(mobile, actor=system, at=clock.now(), reason="fraud check")
    s.create_billing_account(ann, actor=system, at=clock.now(), name="Another")
    ids = [ann.pk, int(created["id"]), int(child["id"])]
    fast = documents.customers(rights.ALL, ids)
    assert [c.pk for c in fast] == ids
    for customer in fast:
        assert tmf_customer.render(customer) == tmf_customer.render(_orm_customer(customer.pk))
    sub = documents.subscriptions(rights.ALL, [mobile.pk])[0]
    orm = _orm_subscription(mobile.pk)
    assert sub.sim.iccid and len(tmf_product.render(sub)["product"]) == 2
    assert tmf_product.render(sub) == tmf_product.render(orm)
    assert SubscriptionOut.model_validate(sub).model_dump() == SubscriptionOut.model_validate(orm).model_dump()
    assert documents.customers([ann.brand_id + 1000], ids) == []  # brands out of reach: nothing
