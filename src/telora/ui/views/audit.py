"""The audit log: every write made through a service, searchable and paged."""

from django.utils.translation import gettext_lazy as _

from telora.core.models import AuditEvent
from telora.ui.forms.platform import AuditFilterForm
from telora.ui.views.generic import ScopedListView, area_allowed


class AuditListView(ScopedListView):
    model = AuditEvent
    area = "audit"
    title = _("Audit log")
    template_name = "ui/audit/list.html"
    results_template_name = "ui/audit/_table.html"
    filter_form_class = AuditFilterForm
    paginate_by = 50

    def get_filter_form_kwargs(self):
        return {"user": self.request.user}

    def get_base_queryset(self):
        return AuditEvent.objects.for_user(self.request.user).select_related("brand").order_by("-at", "-id")

    def filter_queryset(self, queryset, data):
        if data.get("object_type"):
            queryset = queryset.filter(object_type__iexact=data["object_type"].strip())
        if data.get("object_id"):
            queryset = queryset.filter(object_id=data["object_id"].strip())
        if data.get("actor"):
            queryset = queryset.filter(actor_label__icontains=data["actor"].strip())
        if data.get("action"):
            queryset = queryset.filter(action__iexact=data["action"].strip())
        if data.get("brand"):
            queryset = queryset.filter(brand=data["brand"])
        if data.get("since"):
            queryset = queryset.filter(at__gte=data["since"])
        if data.get("until"):
            queryset = queryset.filter(at__lt=data["until"])
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_export"] = area_allowed(self.request.user, self.brand, "jobs")
        return context
