"""Porting on screen: the requests list (filters by direction, state, porting date, operator), a request's
page with every message exchanged and its order, the port-in form of a customer (it becomes a port_in
order), the clearing-house settings, and the customer page's Porting tab. Reading needs porting.view;
starting a port-in porting.change and customers.change; another brand's requests are 404.

The callback endpoint is not a screen: the clearing house signs it (HMAC), a bad signature gets 401."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import FormView

from telora.core import clock, rights
from telora.core.services import ServiceError
from telora.porting import services
from telora.porting.adapters import SignatureError
from telora.porting.forms import ClearingHouseForm, PortInForm, RequestFilterForm
from telora.porting.models import ClearingHouse, Operator, PortingRequest
from telora.ui.views.generic import AreaMixin, ScopedDetailView, ScopedListView, attach_service_error

AREA = "porting"
TAB_ROWS = 20


def may_see(user, brand) -> bool:
    return rights.has_perm(user, brand, "porting.view")


def customer_tab(request, customer) -> dict:
    rows = list(PortingRequest.objects.filter(brand=customer.brand, customer=customer)[:TAB_ROWS + 1])
    may_port = (rights.has_perm(request.user, customer.brand, "porting.change")
                and rights.has_perm(request.user, customer.brand, "customers.change"))
    return {"porting_requests": rows[:TAB_ROWS], "more_porting": len(rows) > TAB_ROWS, "may_port_in": may_port,
            "porting_customer": customer}


def customer_request_count(customer) -> int:
    return PortingRequest.objects.filter(brand=customer.brand, customer=customer).count()


class RequestListView(ScopedListView):
    model = PortingRequest
    area = AREA
    title = gettext_lazy("Porting requests")
    template_name = "porting/list.html"
    filter_form_class = RequestFilterForm
    paginate_by = 50

    def get_base_queryset(self):
        return (PortingRequest.objects.for_user(self.request.user).filter(brand=self.brand)
                .select_related("customer", "order"))

    def filter_queryset(self, queryset, data):
        if data.get("direction"):
            queryset = queryset.filter(direction=data["direction"])
        if data.get("state"):
            queryset = queryset.filter(state=data["state"])
        if data.get("date_from"):
            queryset = queryset.filter(requested_date__gte=data["date_from"])
        if data.get("date_to"):
            queryset = queryset.filter(requested_date__lte=data["date_to"])
        if data.get("operator"):
            code = data["operator"].strip().upper()
            queryset = queryset.filter(Q(donor_code=code) | Q(recipient_code=code))
        if data.get("q"):
            text = data["q"].strip().lstrip("+").replace(" ", "")
            queryset = queryset.filter(Q(number__contains=text) | Q(correlation_id=data["q"].strip()))
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["clearing_house"] = services.clearing_house_for(self.brand) if self.brand else None
        context["may_change"] = bool(self.brand) and rights.has_perm(self.request.user, self.brand, "porting.change")
        return context


class RequestView(ScopedDetailView):
    model = PortingRequest
    area = AREA
    title = gettext_lazy("Porting request")
    template_name = "porting/request.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request = self.object
        names = dict(Operator.objects.filter(country=request.brand.country).values_list("code", "name"))
        context.update(port_messages=request.messages.order_by("at", "id"),
                       donor_name=names.get(request.donor_code, ""), recipient_name=names.get(request.recipient_code, ""))
        return context


class PortInView(AreaMixin, FormView):
    """A port-in for one customer of the active brand: the form becomes a port_in order, whose flow
    submits it to the clearing house (porting.change and customers.change)."""

    area = AREA
    action = "change"
    title = gettext_lazy("Port a number in")
    template_name = "porting/port_in.html"
    form_class = PortInForm

    def customer(self):
        from telora.customers.selectors import customers_for_user

        found = customers_for_user(self.request.user).filter(brand=self.brand, pk=self.kwargs["customer_id"]).first()
        if found is None:
            raise Http404
        return found

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["operators"] = Operator.objects.filter(country=self.brand.country).order_by("name")
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["customer"] = self.customer()
        context["clearing_house"] = services.clearing_house_for(self.brand)
        return context

    def form_valid(self, form):
        from telora.orders.services import create_order

        data = form.cleaned_data
        characteristics = {"number": data["number"], "donor": data["donor"],
                           "requested_date": data["requested_date"].isoformat(),
                           **{k: data[k] for k in ("account_number", "pin", "id_number") if data[k]}}
        try:
            order = create_order(self.customer(), actor=self.actor(), at=clock.now(), order_type="port_in",
                                 channel="gui", items=[{"product_offering": data["plan"],
                                                        "characteristics": characteristics}],
                                 description=f"port-in of {data['number']} from {data['donor']}")
        except ServiceError as exc:
            attach_service_error(form, exc, {"porting_request": "number", "items[0].product_offering": "plan"})
            return self.form_invalid(form)
        if order.state == "failed":
            messages.error(self.request, _("The port-in was refused: %(reason)s") % {"reason": order.state_reason})
        else:
            messages.success(self.request, _("Port-in order %(number)s sent to the clearing house.")
                             % {"number": order.number})
        return HttpResponseRedirect(reverse("orders:order_detail", args=[order.pk]))


class ClearingHouseView(AreaMixin, FormView):
    """The brand's clearing-house connection (porting.change); secrets are write-only."""

    area = AREA
    action = "change"
    title = gettext_lazy("Porting: clearing house")
    template_name = "porting/clearing_house.html"
    form_class = ClearingHouseForm

    def get_initial(self):
        house = services.clearing_house_for(self.brand)
        if house is None:
            return {}
        return {name: getattr(house, name) for name in ("name", "url", "callback_url", "operator_code",
                                                        "answer_hours", "port_out_debt_limit")}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        house = services.clearing_house_for(self.brand)
        context.update(house=house, secrets_stored=bool(house and house.sealed_credentials))
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        secrets = {k: data[k] for k in ("api_key", "callback_secret") if data[k]}
        try:
            services.configure_clearing_house(
                self.brand, name=data["name"], url=data["url"], callback_url=data["callback_url"],
                operator_code=data["operator_code"], answer_hours=data["answer_hours"],
                port_out_debt_limit=data["port_out_debt_limit"], secrets=secrets, actor=self.actor(),
                at=clock.now())
        except ServiceError as exc:
            attach_service_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Clearing house saved."))
        return HttpResponseRedirect(reverse("porting:list"))


@method_decorator(csrf_exempt, name="dispatch")
class CallbackView(View):
    """POST /porting/callback/<clearing house>/: its signed events. 401 unsigned or badly signed, 404 unknown
    clearing house, 200 otherwise (a repeated or late event too: it is logged and changes nothing)."""

    def post(self, request, house_id: int):
        house = get_object_or_404(ClearingHouse.objects.filter(active=True).select_related("brand"), pk=house_id)
        try:
            found = services.receive_callback(house, headers=dict(request.headers), body=request.body, at=clock.now())
        except SignatureError:
            return HttpResponse(status=401)
        return JsonResponse({"received": True, "known": found is not None})
