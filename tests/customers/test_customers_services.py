"""Customers, billing accounts and selling subscriptions through the services."""

import datetime as dt
from decimal import Decimal

import pytest

from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services.actors import PermissionDeniedError, ServiceError
from telora.core.services.sequences import configure_sequence
from telora.customers import services as s
from telora.customers.models import Customer, NumberAssignment
from telora.inventory.models import PhoneNumber, SimCard
from telora.inventory.services import reserve_number

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept")]


def private(brand, actor, **values):
    values = {"first_name": "Bo", "last_name": "Jansen", **values}
    return s.create_customer(brand, actor=actor, at=clock.now(), kind="private", **values)


def test_customer_numbers_are_sequential_per_brand(shop, other_shop, system):
    assert [private(shop, system).number for _ in range(3)] == ["C0000001", "C0000002", "C0000003"]
    assert private(other_shop, system).number == "C0000001"
    with pytest.raises(ServiceError):
        private(shop, system, last_name="")  # refused before a number is taken
    assert private(shop, system).number == "C0000004"


def test_a_customer_gets_a_name_search_text_and_normalised_contact_fields(shop, system):
    customer = private(shop, system, first_name="Zoë", last_name="Müller-Lüdenscheidt", phone="06-1234 5678",
                       email="Zoe@Example.com", language="", id_type="passport", id_number="NX1234567",
                       birth_date="1980-02-29")
    assert customer.name == "Zoë Müller-Lüdenscheidt"
    assert customer.search_text == "zoe muller-ludenscheidt"
    assert customer.phone == "31612345678" and customer.language == "en"
    assert customer.birth_date == dt.date(1980, 2, 29)
    event = AuditEvent.objects.get(object_type="customers.customer", object_id=str(customer.pk))
    assert event.action == "create" and event.changes["number"] == [None, "C0000001"]


@pytest.mark.parametrize("kind, values, message", [
    ("private", {"last_name": ""}, "last_name: is required"),
    ("business", {"company_name": ""}, "company_name: is required"),
    ("private", {"vat_number": "NL004495445B01"}, "vat_number: only business customers have one"),
    ("business", {"company_name": "Acme", "birth_date": "1980-01-01"}, "birth_date: only private customers"),
    ("business", {"company_name": "Acme", "vat_number": "GB980780685"}, "vat_number: GB980780685 is not a valid GB"),
    ("private", {"birth_date": "2990-01-01"}, "birth_date: 2990-01-01 is not a plausible birth date"),
    ("private", {"id_number": "X123"}, "id_type: say what kind of document"),
    ("private", {"email": "not-an-address"}, "email: 'not-an-address' is not a valid e-mail address"),
    ("private", {"phone": "12"}, "phone: '12' is not a valid phone number (read in NL)"),
    ("private", {"language": "xx-yy-zz"}, "language:"),
    ("private", {"customer_group": "NOPE"}, "customer_group: no customer group 'NOPE' in the catalogue of alpha"),
    ("private", {"notes": "card 4111 1111 1111 1111"}, "notes: looks like a payment card number (4111…1111)"),
])
def test_customer_fields_are_checked_with_clear_messages(shop, system, kind, values, message):
    base = {"first_name": "Bo", "last_name": "Jansen"} if kind == "private" else {}
    with pytest.raises(ServiceError) as refused:
        s.create_customer(shop, actor=system, at=clock.now(), kind=kind, **{**base, **values})
    assert refused.value.message.startswith(message)


def test_business_hierarchies_never_loop(shop, system):
    group = s.create_customer(shop, actor=system, at=clock.now(), kind="business", company_name="Group NV",
                              vat_number="NL004495445B01", customer_group="SME")
    daughter = s.create_customer(shop, actor=system, at=clock.now(), kind="business", company_name="Daughter BV",
                                 parent=group)
    assert daughter.parent == group and group.customer_group.code == "SME"
    with pytest.raises(ServiceError, match="parent: .* is below"):
        s.update_customer(group, actor=system, at=clock.now(), parent=daughter)
    person = private(shop, system)
    with pytest.raises(ServiceError, match="only business customers have children"):
        private(shop, system, parent=person)
    with pytest.raises(ServiceError, match="stays a business customer"):
        s.update_customer(group, actor=system, at=clock.now(), kind="private", last_name="X", company_name="",
                          vat_number="")


def test_update_is_audited_with_old_and_new_values(ann, system):
    s.update_customer(ann, actor=system, at=clock.now(), last_name="Visser", status="suspended",
                      status_reason="fraud check")
    event = AuditEvent.objects.filter(object_type="customers.customer", action="update").get()
    assert event.changes["last_name"] == ["de Vries", "Visser"]
    assert event.changes["name"] == ["Ann de Vries", "Ann Visser"]
    assert event.changes["status"] == ["active", "suspended"]


def test_closing_a_customer_needs_every_subscription_terminated(mobile, system):
    customer = mobile.customer
    with pytest.raises(ServiceError, match="has 1 subscription"):
        s.update_customer(customer, actor=system, at=clock.now(), status="closed")
    s.terminate_subscription(mobile, actor=system, at=clock.now())
    closed = s.update_customer(customer, actor=system, at=clock.now(), status="closed")
    assert closed.closed_at is not None


def test_contacts_and_addresses(ann, system):
    contact = s.add_contact(ann, actor=system, at=clock.now(), first_name="Piet", last_name="de Vries",
                            role="billing", email="piet@example.com", phone="+31 20 123 4567")
    assert contact.phone == "31201234567"
    s.update_contact(contact, actor=system, at=clock.now(), role="technical")
    with pytest.raises(ServiceError, match="roles: 'home' is not one of legal, billing, shipping, installation"):
        s.add_address(ann, actor=system, at=clock.now(), street1="A 1", postcode="1", city="X", roles=["home"])
    address = s.add_address(ann, actor=system, at=clock.now(), street1="Dorpsstraat 2", postcode="3511 AA",
                            city="Utrecht", roles=["shipping", "billing", "shipping"])
    assert address.roles == ["billing", "shipping"] and address.country == "NL"
    s.update_address(address, actor=system, at=clock.now(), city="Zeist")
    billed = ann.addresses.order_by("id").first()
    with pytest.raises(ServiceError, match="is used by a billing account"):
        s.remove_address(billed, actor=system, at=clock.now())
    s.remove_address(address, actor=system, at=clock.now())
    assert ann.addresses.count() == 1


def test_billing_account_defaults_and_numbers(ann, system):
    first = ann.accounts.get()
    assert first.number == "C0000001-1" and first.currency == "EUR"
    assert first.invoice_email == "Ann.deVries@example.com" and first.billing_address is not None
    assert first.bill_cycle.code == "M01"  # the brand's first cycle by code
    second = s.create_billing_account(ann, actor=system, at=clock.now(), billing_group="BUSINESS",
                                      invoice_delivery="print", credit_limit="250.50", payment_method="direct_debit",
                                      payment_method_ref="MANDATE-0001 NL91ABNA0417164300")
    assert second.number == "C0000001-2"
    assert second.bill_cycle.code == "M15"  # the group's cycle
    assert second.credit_limit == Decimal("250.50")
    configure_sequence(ann.brand, "account", actor=system, at=clock.now(), format="A{number:06d}")
    assert s.create_billing_account(ann, actor=system, at=clock.now()).number == "A000001"


@pytest.mark.parametrize("values, message", [
    ({"payment_method_ref": "4111 1111 1111 1111"}, "payment_method_ref: looks like a payment card number (4111…1111)"),
    ({"payment_method_ref": "tok-5500-0000-0000-0004"}, "payment_method_ref: looks like a payment card number"),
    ({"payment_method_ref": "378282246310005"}, "payment_method_ref: looks like a payment card number (3782…0005)"),
    ({"credit_limit": -1}, "credit_limit: must be zero or more"),
    ({"credit_limit": 1.5}, "credit_limit: amounts must not be floats"),
    ({"invoice_delivery": "fax"}, "invoice_delivery: 'fax' is not one of email, print"),
    ({"bill_cycle": "M99"}, "bill_cycle: no bill cycle 'M99'"),
    ({"payment_method": "bitcoin"}, "payment_method: 'bitcoin' is not one of"),
])
def test_billing_account_refusals(ann, system, values, message):
    with pytest.raises(ServiceError) as refused:
        s.create_billing_account(ann, actor=system, at=clock.now(), **values)
    assert refused.value.message.startswith(message)
    if "card number" in message:
        assert refused.value.code == "card_number"
        assert not AuditEvent.objects.filter(changes__icontains="4111").exists()


def test_printed_invoices_need_an_address(shop, system):
    customer = private(shop, system)
    with pytest.raises(ServiceError, match="invoice_email: invoices go by e-mail"):
        s.create_billing_account(customer, actor=system, at=clock.now())
    with pytest.raises(ServiceError, match="billing_address: printed invoices need a postal address"):
        s.create_billing_account(customer, actor=system, at=clock.now(), invoice_delivery="print")


def test_a_mobile_subscription_end_to_end(ann, system):
    at = clock.now()
    sub = s.create_subscription(ann, actor=system, at=at, billing_account=ann.accounts.get(),
                                service_type="mobile_postpaid", plan="MOB_POST_10GB", addons=["ROAM_EU_5GB"],
                                one_time=["SIM_REPLACEMENT"], sim_type="esim")
    assert sub.status == "active" and sub.activated_at == at
    assert sub.identifier == sub.phone_number.number == "31610000001"
    sim = SimCard.objects.get(pk=sub.sim_id)
    assert (sim.status, sim.sim_type, sim.reserved_for) == ("allocated", "esim", "customer C0000001")
    assert PhoneNumber.objects.get(pk=sub.phone_number_id).status == "allocated"
    products = {(i.product.code, i.kind, i.end_at) for i in sub.products.all()}
    assert products == {("MOB_POST_10GB", "plan", None), ("ROAM_EU_5GB", "addon", None),
                        ("SIM_REPLACEMENT", "one_time", at)}
    assert NumberAssignment.objects.get(subscription=sub).valid_from == at
    months_later = clock.localtime(sub.commitment_end, ann.brand)
    assert (months_later - clock.localtime(at, ann.brand)).days in range(180, 185)  # six months
    actions = set(AuditEvent.objects.filter(brand=ann.brand).values_list("object_type", "action"))
    assert {("customers.subscription", "create"), ("customers.productinstance", "create"),
            ("customers.numberassignment", "assign"), ("inventory.simcard", "allocate"),
            ("inventory.phonenumber", "allocate")} <= actions
    allocation = AuditEvent.objects.get(object_type="inventory.simcard", action="allocate")
    assert allocation.actor_label == "job:tests"  # a job acts on the inventory as itself


def test_a_reserved_number_is_sold_only_under_its_reference(ann, system):
    reserve_number(ann.brand, "+31 6 10000003", actor=system, at=clock.now(), reference=s.reservation_reference(ann))
    sub = s.create_subscription(ann, actor=system, at=clock.now(), billing_account=ann.accounts.get(),
                                service_type="mobile_prepaid", plan="MOB_PRE", number="0610000003")
    assert sub.identifier == "31610000003"
    reserve_number(ann.brand, "+31 6 10000002", actor=system, at=clock.now(), reference="order O-7")
    with pytest.raises(ServiceError, match="number: \\+31610000002 is reserved for order O-7"):
        s.create_subscription(ann, actor=system, at=clock.now(), billing_account=ann.accounts.get(),
                              service_type="mobile_prepaid", plan="MOB_PRE", number="+31610000002")
    sub = s.create_subscription(ann, actor=system, at=clock.now(), billing_account=ann.accounts.get(),
                                service_type="mobile_prepaid", plan="MOB_PRE", number="+31610000002",
                                reference="order O-7")
    assert sub.identifier == "31610000002"


def test_fixed_broadband_and_fiber_identifiers(ann, system):
    account = ann.accounts.get()
    voip = s.create_subscription(ann, actor=system, at=clock.now(), billing_account=account, service_type="voip",
                                 plan="VOIP_LINE", number="020 123 4567")
    assert voip.identifier == "31201234567" and voip.phone_number is None and voip.sim is None
    with pytest.raises(ServiceError, match="identifier: 'a b' is not a circuit id"):
        s.create_subscription(ann, actor=system, at=clock.now(), billing_account=account, service_type="fiber",
                              plan="FIBER_500", identifier="a b")
    fiber = s.create_subscription(ann, actor=system, at=clock.now(), billing_account=account, service_type="fiber",
                                  plan="FIBER_500", identifier="FIB-AMS-0001")
    assert fiber.installation_address == ann.addresses.get()  # the address with the installation role
    assert fiber.commitment_end is not None
    with pytest.raises(ServiceError, match="identifier: FIB-AMS-0001 belongs to another live subscription"):
        s.create_subscription(ann, actor=system, at=clock.now(), billing_account=account, service_type="fiber",
                              plan="FIBER_500", identifier="FIB-AMS-0001")
    with pytest.raises(ServiceError, match="sim: only mobile subscriptions have a SIM card"):
        s.create_subscription(ann, actor=system, at=clock.now(), billing_account=account, service_type="fiber",
                              plan="FIBER_500", identifier="FIB-AMS-0002", sim_type="esim")


@pytest.mark.parametrize("values, message", [
    ({"plan": "FIBER_500"}, "plan: FIBER_500 is for fiber subscriptions, not mobile_postpaid"),
    ({"plan": "ROAM_EU_5GB"}, "plan: ROAM_EU_5GB is an add-on, not a plan"),
    ({"plan": "OLD_PLAN"}, "plan: OLD_PLAN is no longer sold"),
    ({"plan": "NOPE"}, "plan: no product 'NOPE' in the catalogue of alpha"),
    ({"plan": "MOB_POST_BASIC", "addons": ["DATA_S", "DATA_L"]},
     "products: DATA_S allows at most 1 of DATA_L, DATA_S (found 2); DATA_L allows at most 1 of DATA_L, DATA_S (found 2)"),
    ({"plan": "MOB_POST_BASIC", "addons": ["DATA_L", "ROAM_EU_5GB"]}, "products: DATA_L excludes ROAM_EU_5GB"),
    ({"service_type": "mobile_prepaid", "plan": "MOB_PRE", "addons": ["ROAM_EU_5GB"]},
     "products: ROAM_EU_5GB requires one of MOB_POST_10GB, MOB_POST_BASIC"),
    ({"sim": "8931440400000000999"}, "iccid: Luhn check digit is wrong"),
    ({"number": "+31 6 19999999"}, "number: +31619999999 is not in the inventory of alpha"),
])
def test_selling_refusals_name_the_rule_or_field(ann, system, values, message):
    values = {"service_type": "mobile_postpaid", "plan": "MOB_POST_BASIC", **values}
    with pytest.raises(ServiceError) as refused:
        s.create_subscription(ann, actor=system, at=clock.now(), billing_account=ann.accounts.get(), **values)
    assert refused.value.message == message or refused.value.message.startswith(message)
    assert not SimCard.objects.filter(status="allocated").exists()  # nothing was kept


def test_rights_are_checked_in_the_brand(ann, make_user):
    from telora.core.services.actors import Actor

    viewer = Actor(user=make_user("viewer", {ann.brand: ["customers.view"]}))
    with pytest.raises(PermissionDeniedError, match="You lack customers.change in brand alpha"):
        s.update_customer(ann, actor=viewer, at=clock.now(), notes="hi")
    clerk = Actor(user=make_user("clerk", {ann.brand: ["customers.view", "customers.change"]}))
    sub = s.create_subscription(ann, actor=clerk, at=clock.now(), billing_account=ann.accounts.get(),
                                service_type="mobile_prepaid", plan="MOB_PRE")  # no inventory rights needed
    allocation = AuditEvent.objects.get(object_type="inventory.phonenumber", action="allocate")
    assert allocation.actor_label == "job:customers (clerk)"
    assert AuditEvent.objects.get(object_type="customers.subscription", object_id=str(sub.pk)).actor_user.username \
        == "clerk"


def test_customers_of_a_suspended_or_closed_customer_get_no_new_lines(ann, system):
    s.update_customer(ann, actor=system, at=clock.now(), status="suspended")
    with pytest.raises(ServiceError, match="customer: C0000001 is suspended"):
        s.create_subscription(ann, actor=system, at=clock.now(), billing_account=ann.accounts.get(),
                              service_type="mobile_prepaid", plan="MOB_PRE")
    assert Customer.objects.get(pk=ann.pk).status == "suspended"
