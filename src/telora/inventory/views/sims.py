"""SIM cards: the list with its filters, a card's page with its PIN/PUK codes masked (shown, and
audited, only for inventory.secrets), block, unblock and retire, and a card entered by hand."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telora.catalog.models import SimType
from telora.catalog.selectors import catalogue_owners
from telora.core import clock
from telora.core.models import AuditEvent
from telora.inventory import services
from telora.inventory.forms import ReasonForm, SimFilterForm, SimForm
from telora.inventory.models import SIM_TRANSITIONS, SimCard, SimStatus
from telora.inventory.selectors import sim_secrets, sims_for_user
from telora.inventory.views.common import RowFormView, may, status_of
from telora.ui.views.generic import AreaMixin, ScopedDetailView, ScopedListView, ServiceFormView, is_htmx

SECRET_NAMES = ("pin1", "puk1", "pin2", "puk2")


def sim_types_of(brand) -> dict[str, SimType]:
    """The catalogue's SIM types the brand sells, by code (its own and shared ones)."""
    if brand is None:
        return {}
    day = clock.today(brand)
    rows = SimType.objects.filter(brand_id__in=catalogue_owners(brand)).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=day)).order_by("code")
    return {row.code: row for row in rows}


class SimListView(ScopedListView):
    model = SimCard
    area = "inventory"
    title = gettext_lazy("SIM cards")
    template_name = "inventory/sims/list.html"
    results_template_name = "inventory/sims/_table.html"
    filter_form_class = SimFilterForm
    paginate_by = 50

    def get_filter_form_kwargs(self):
        return {"brand": self.brand}

    def get_base_queryset(self):
        return sims_for_user(self.request.user).filter(brand=self.brand).order_by("iccid")

    def filter_queryset(self, queryset, data):
        digits = "".join(ch for ch in data.get("q") or "" if ch.isdigit())
        if digits:
            queryset = queryset.filter(Q(iccid__contains=digits) | Q(imsi__contains=digits))
        for name in ("status", "sim_type", "batch"):
            if data.get(name):
                queryset = queryset.filter(**{name: data[name]})
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = [{"sim": sim, "status": status_of(sim)} for sim in context["object_list"]]
        context["can_change"] = may(self.request.user, self.brand, "change") if self.brand else False
        context["can_import"] = may(self.request.user, self.brand, "import") if self.brand else False
        return context


class SimDetailView(ScopedDetailView):
    model = SimCard
    area = "inventory"
    template_name = "inventory/sims/detail.html"
    context_object_name = "sim"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sim, user = self.object, self.request.user
        status = status_of(sim)
        allowed = SIM_TRANSITIONS[status["code"]]
        can_change = may(user, sim, "change")
        context.update(
            title=sim.iccid, status=status, can_change=can_change, can_see_secrets=may(user, sim, "secrets"),
            secret_rows=[(name, None) for name in SECRET_NAMES], sealed=bool(sim.sealed_secrets),
            block_url=reverse("inventory:sim_block", args=[sim.pk]),
            retire_url=reverse("inventory:sim_retire", args=[sim.pk]),
            may_block=can_change and SimStatus.BLOCKED in allowed,
            may_unblock=can_change and sim.status == SimStatus.BLOCKED,
            may_retire=can_change and SimStatus.RETIRED in allowed,
            sim_type=sim_types_of(sim.brand).get(sim.sim_type),
            secrets_views=AuditEvent.objects.for_object(sim).filter(action="view_secrets").count(),
        )
        return context


class SimSecretsView(SimDetailView):
    """POST: the card's PIN and PUK codes, through the selector that audits every reading."""

    http_method_names = ["post"]

    def check_rights(self) -> None:
        super().check_rights()
        if not may(self.request.user, self.object, "secrets"):
            raise PermissionDenied

    def get_template_names(self):
        return ["inventory/sims/_secrets.html" if is_htmx(self.request) else self.template_name]

    def post(self, request, *args, **kwargs):
        self.codes = sim_secrets(self.object, request.user, at=clock.now(), actor=self.actor())
        return self.render_to_response(self.get_context_data())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(secrets=True, secret_rows=[(name, self.codes.get(name)) for name in SECRET_NAMES])
        return context


class SimActionView(RowFormView):
    """Block, unblock or retire a card, with an optional reason kept in the audit event."""

    model = SimCard
    form_class = ReasonForm
    verb = ""
    SERVICES = {"block": services.block_sim, "unblock": services.unblock_sim, "retire": services.retire_sim}
    MESSAGES = {"block": gettext_lazy("SIM card %(iccid)s blocked."),
                "unblock": gettext_lazy("SIM card %(iccid)s unblocked."),
                "retire": gettext_lazy("SIM card %(iccid)s retired.")}

    def perform(self, form, *, actor, at):
        sim = self.object
        self.SERVICES[self.verb](sim.brand, sim, actor=actor, at=at, reason=form.cleaned_data.get("reason", ""))

    def get_success_message(self, result):
        return self.MESSAGES[self.verb] % {"iccid": result.iccid}

    def get_success_url(self, result=None):
        return reverse("inventory:sim_detail", args=[self.object.pk])


class SimCreateView(AreaMixin, ServiceFormView):
    area = "inventory"
    action = "change"
    title = gettext_lazy("New SIM card")
    template_name = "inventory/form.html"
    form_class = SimForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["cancel_url"] = reverse("inventory:sim_list")
        context["datalist"] = ("sim-types", list(sim_types_of(self.brand)))
        return context

    def perform(self, form, *, actor, at):
        return services.create_sim(self.brand, actor=actor, at=at, **form.cleaned_data)

    def get_success_message(self, result):
        return _("SIM card %(iccid)s added.") % {"iccid": result.iccid}

    def get_success_url(self, result=None):
        return reverse("inventory:sim_detail", args=[result.pk])

