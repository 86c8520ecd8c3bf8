"""Customers: the list with its filters, creating one, the customer's page with its tabs, editing."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from telora.core import clock
from telora.core.services import ServiceError
from telora.customers import services
from telora.customers.constants import LIVE_STATUSES
from telora.customers.forms.customers import CustomerCreateForm, CustomerEditForm, CustomerFilterForm
from telora.customers.models import Customer, ProductInstance, Subscription
from telora.customers.panels import panels_for, tabs_for
from telora.customers.selectors import customers_for_user
from telora.customers.validation import normalise_text, query_digits
from telora.customers.views.common import AREA, CustomerObjectMixin, customer_url, fields_as, history_feed
from telora.inventory.validation import InvalidValue, clean_number
from telora.ui.views.generic import (
    AreaMixin,
    ScopedDetailView,
    ScopedListView,
    ServiceFormView,
    area_allowed,
    is_htmx,
)

# The customers app's own tabs (name, label, icon, place); higher apps add theirs with panels.register_tab.
TABS = [
    ("subscriptions", gettext_lazy("Subscriptions"), "device-mobile", 10),
    ("accounts", gettext_lazy("Billing accounts"), "receipt", 20),
    ("addresses", gettext_lazy("Addresses"), "map-pin", 30),
    ("contacts", gettext_lazy("Contacts"), "address-book", 40),
    ("files", gettext_lazy("Files"), "paperclip", 50),
    ("history", gettext_lazy("History"), "history", 90),
]
TAB_NAMES = [name for name, _label, _icon, _order in TABS]


def page_tabs(user, customer: Customer) -> tuple[list[tuple], dict]:
    """The tabs of this reader on this customer's page, in order, as (name, label, icon), and the registered
    ones by name."""
    extra = {tab.name: tab for tab in tabs_for(user, customer)}
    rows = sorted([(order, name, label, icon) for name, label, icon, order in TABS]
                  + [(tab.order, tab.name, tab.label, tab.icon) for tab in extra.values()])
    return [(name, label, icon) for _order, name, label, icon in rows], extra


class CustomerListView(ScopedListView):
    model = Customer
    area = AREA
    title = gettext_lazy("Customers")
    template_name = "customers/list.html"
    results_template_name = "customers/_table.html"
    filter_form_class = CustomerFilterForm

    def get_filter_form_kwargs(self):
        return {"brand": self.brand}

    def get_base_queryset(self):
        live = Count("subscriptions", filter=Q(subscriptions__status__in=LIVE_STATUSES))
        return (customers_for_user(self.request.user).filter(brand=self.brand).annotate(live_lines=live)
                .order_by("-created_at", "-id"))

    def filter_queryset(self, queryset, data):
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("kind"):
            queryset = queryset.filter(kind=data["kind"])
        if data.get("group"):
            queryset = queryset.filter(customer_group=data["group"])
        query = (data.get("q") or "").strip()
        if query:
            queryset = queryset.filter(self.text_match(query))
        return queryset

    def text_match(self, query: str) -> Q:
        """Customer number, name words, e-mail prefix, phone, or a line's number or circuit id."""
        condition = Q(number__iexact=query)
        words = normalise_text(query).split()
        if words:
            name = Q()
            for word in words:
                name &= Q(search_text__contains=word)
            condition |= name
        if "@" in query:
            condition |= Q(email__istartswith=query)
        digits = query_digits(query)
        numbers = {query}
        if digits:
            numbers |= {digits, digits[2:] if digits.startswith("00") else digits}
            with_country = _e164(query, self.brand.country)
            if with_country:
                numbers.add(with_country)
            condition |= Q(phone__in=numbers)
        lines = Subscription.objects.filter(brand=self.brand, identifier__in=numbers).values("customer_id")
        return condition | Q(pk__in=lines)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_change"] = area_allowed(self.request.user, self.brand, AREA, "change")
        return context


def _e164(query: str, country: str) -> str:
    try:
        return clean_number(query, country)
    except InvalidValue:
        return ""


ADDRESS_FIELDS = {name: name for name in ("street1", "street2", "postcode", "city", "country")}
ADDRESS_FIELDS["roles"] = "address_roles"
CONTACT_FIELDS = {name: f"contact_{name}" for name in ("role", "first_name", "last_name", "email", "phone")}
ACCOUNT_FIELDS = {"billing_group": "billing_group", "invoice_delivery": "invoice_delivery",
                  "invoice_email": "invoice_delivery", "billing_address": "street1", "customer": None,
                  "bill_cycle": "billing_group"}


class CustomerCreateView(AreaMixin, ServiceFormView):
    area = AREA
    action = "change"
    title = gettext_lazy("New customer")
    template_name = "customers/customer_form.html"
    form_class = CustomerCreateForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "brand": self.brand}

    def perform(self, form, *, actor, at):
        data = form.cleaned_data
        values = form.customer_values()
        with transaction.atomic():  # all or nothing: no customer number is used up by a refused address
            values["parent"] = self.parent(form)
            customer = services.create_customer(self.brand, actor=actor, at=at, kind=data["kind"], **values)
            with fields_as(ADDRESS_FIELDS):
                services.add_address(customer, actor=actor, at=at, roles=data.get("address_roles") or [],
                                     street1=data["street1"], street2=data["street2"], postcode=data["postcode"],
                                     city=data["city"], country=data["country"])
            if data.get("contact_last_name"):
                with fields_as(CONTACT_FIELDS):
                    services.add_contact(customer, actor=actor, at=at, role=data["contact_role"],
                                         first_name=data["contact_first_name"],
                                         last_name=data["contact_last_name"], email=data["contact_email"],
                                         phone=data["contact_phone"])
            if data.get("open_account"):
                with fields_as(ACCOUNT_FIELDS):
                    services.create_billing_account(customer, actor=actor, at=at,
                                                    billing_group=data.get("billing_group"),
                                                    invoice_delivery=data["invoice_delivery"])
        return customer

    def parent(self, form):
        number = (form.cleaned_data.get("parent") or "").strip()
        if form.cleaned_data["kind"] != "business" or not number:
            return None
        found = customers_for_user(self.request.user).filter(brand=self.brand, number__iexact=number).first()
        if found is None:
            raise ServiceError(_("There is no customer %(number)s in %(brand)s.") % {
                "number": number, "brand": self.brand.name}, field="parent")
        return found

    def get_success_message(self, result):
        return _("Customer %(number)s %(name)s created.") % {"number": result.number, "name": result.name}

    def get_success_url(self, result=None):
        return customer_url(result)


class CustomerEditView(CustomerObjectMixin, ServiceFormView):
    required_action = "change"
    template_name = "customers/customer_form.html"
    form_class = CustomerEditForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "customer": self.object}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Edit %(name)s") % {"name": self.object.name}
        return context

    def perform(self, form, *, actor, at):
        data = form.cleaned_data
        values = form.customer_values()
        values.update(kind=data["kind"], status=data["status"], status_reason=data["status_reason"])
        number = (data.get("parent") or "").strip() if data["kind"] == "business" else ""
        if number:
            parent = customers_for_user(self.request.user).filter(brand=self.object.brand,
                                                                 number__iexact=number).first()
            if parent is None:
                raise ServiceError(_("There is no customer %(number)s.") % {"number": number}, field="parent")
            values["parent"] = parent
        else:
            values["parent"] = None
        if data.get("customer_group") == self.object.customer_group:
            values.pop("customer_group")  # unchanged: a group closed since is not checked again
        return services.update_customer(self.object, actor=actor, at=at, **values)

    def get_success_message(self, result):
        return _("Customer %(number)s saved.") % {"number": result.number}

    def get_success_url(self, result=None):
        return customer_url(self.object)


def tab_context(user, customer: Customer, tab: str) -> dict:
    """What one tab of the customer page shows (each tab reads only its own rows)."""
    at = clock.now()
    context: dict = {"tab": tab}
    if tab == "subscriptions":
        current = Prefetch("products", to_attr="current_products", queryset=ProductInstance.objects.filter(
            start_at__lte=at).filter(Q(end_at__isnull=True) | Q(end_at__gt=at)).exclude(end_reason="once")
            .select_related("product").order_by("kind", "start_at"))
        rows = list(customer.subscriptions.select_related("billing_account", "sim", "phone_number")
                    .prefetch_related(current).order_by("id"))
        order = {"active": 0, "suspended": 1, "pending": 2, "terminated": 3}
        rows.sort(key=lambda s: (order.get(s.status, 9), -s.pk))
        context["subscriptions"] = rows
    elif tab == "accounts":
        live = Count("subscriptions", filter=Q(subscriptions__status__in=LIVE_STATUSES))
        context["accounts"] = customer.accounts.select_related("bill_cycle", "billing_group", "billing_address") \
            .annotate(live_lines=live).order_by("number")
    elif tab == "addresses":
        context["addresses"] = customer.addresses.order_by("id")
    elif tab == "contacts":
        context["contacts"] = customer.contacts.order_by("role", "last_name", "id")
    elif tab == "files":
        context["files"] = customer.files.order_by("-uploaded_at", "-id")
    elif tab == "history":
        related = [customer, *customer.addresses.all(), *customer.contacts.all(), *customer.accounts.all(),
                   *customer.files.all(), *customer.subscriptions.all()]
        context["events"], context["more"] = history_feed(user, related)
    return context


def tab_counts(customer: Customer) -> dict[str, int]:
    """Live lines and the other tabs' rows: one small count each (a join of them all would multiply)."""
    return {
        "subscriptions": customer.subscriptions.filter(status__in=LIVE_STATUSES).count(),
        "accounts": customer.accounts.count(), "addresses": customer.addresses.count(),
        "contacts": customer.contacts.count(), "files": customer.files.count(),
    }


class CustomerDetailView(CustomerObjectMixin, ScopedDetailView):
    template_name = "customers/detail.html"

    def get_template_names(self):
        if is_htmx(self.request) and self.request.GET.get("tab"):
            return ["customers/tabs/_card.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        customer = self.object
        tab = self.request.GET.get("tab") or "subscriptions"
        tabs, extra = page_tabs(self.request.user, customer)
        if tab not in TAB_NAMES and tab not in extra:
            raise Http404
        can_change = customers_for_user(self.request.user, "change").filter(pk=customer.pk).exists()
        if tab in extra:
            context.update(extra[tab].context(self.request, customer), tab=tab, tab_template=extra[tab].template)
        else:
            context.update(tab_context(self.request.user, customer, tab), tab_template=f"customers/tabs/{tab}.html")
        counts = tab_counts(customer)
        counts.update({name: t.count(customer) for name, t in extra.items() if t.count is not None})
        context.update(
            title=customer.name, tabs=tabs, counts=counts, can_change=can_change, live_lines=counts["subscriptions"],
            children=customer.children.order_by("number")[:20], panels=panels_for(self.request, customer),
            primary_contact=customer.contacts.order_by("role", "id").first(),
            legal_address=next((a for a in customer.addresses.order_by("id") if "legal" in a.roles), None),
        )
        return context


class CustomerPickView(AreaMixin, TemplateView):
    """The customers of the active brand matching a few letters, for the "part of" field (HTMX)."""

    area = AREA
    template_name = "customers/_pick.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.get("parent", "").strip()
        rows = Customer.objects.none()
        if len(query) >= 2:
            words = normalise_text(query).split()
            name = Q()
            for word in words:
                name &= Q(search_text__contains=word)
            rows = (customers_for_user(self.request.user).filter(brand=self.brand, kind="business")
                    .filter(name | Q(number__istartswith=query)).order_by("name")[:8])
        context["choices"] = rows
        return context
