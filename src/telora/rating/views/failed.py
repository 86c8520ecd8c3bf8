"""Failed records: the log with its filters (open ones by default), one record's page with its
original fields, and the bulk actions on the chosen rows or on all that match the filter:
re-rate (rating.rerate) and delete (rating.delete_failed, after a confirmation). Buttons are
shown to those holding the right; the POST checks it again and the services audit the change."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View

from telora.core import clock
from telora.core.services import ServiceError
from telora.rating.engine.results import PARSE_ERROR
from telora.rating.forms import FailedActionForm, FailedFilterForm
from telora.rating.models import FailedRecord
from telora.rating.selectors import failed_records
from telora.rating.services import failed
from telora.rating.views.common import AREA, FAILED_COLOURS, may
from telora.rating.views.files import day_start
from telora.ui.views.generic import AreaMixin, ScopedDetailView, ScopedListView, area_allowed, safe_next

FILTER_FIELDS = ("reason", "status", "source", "file", "a_number", "created_from", "created_to")
# Fields of the original record shown first, in this order; any others follow.
ORIGINAL_ORDER = ("record_id", "service", "a_number", "b_number", "start_time", "duration", "volume", "quantity",
                  "location", "charge", "direction", "line")
ACTION_RIGHTS = {"rerate": "rerate", "delete": "delete_failed"}


def filter_failed(user, brand, data: dict, action: str = "view"):
    """The brand's failed records `user` may see (or act on, with `action`), narrowed by the cleaned
    data of a FailedFilterForm (the dates are days in the brand's timezone)."""
    digits = "".join(ch for ch in data.get("a_number") or "" if ch.isdigit())
    first, last = data.get("created_from"), data.get("created_to")
    return failed_records(
        user, brand=brand, reason=data.get("reason") or None, status=data.get("status") or "open",
        source=data.get("source") or None, file=data.get("file"), a_number=digits or None,
        since=day_start(first, brand) if first else None,
        until=day_start(last + dt.timedelta(days=1), brand) if last else None, action=action)


def filter_query(form) -> str:
    """The filter as a query string, to come back to the same list after an action."""
    if form is None or not form.is_bound:
        return ""
    pairs = [(name, form.data.get(name)) for name in FILTER_FIELDS if form.data.get(name)]
    return urlencode(pairs)


def original_fields(record: FailedRecord) -> list[tuple[str, object]]:
    original = dict(record.original or {})
    ordered = [(name, original.pop(name)) for name in ORIGINAL_ORDER if name in original]
    return ordered + sorted(original.items())


class FailedListView(ScopedListView):
    model = FailedRecord
    area = AREA
    title = gettext_lazy("Failed records")
    template_name = "rating/failed/list.html"
    results_template_name = "rating/failed/_table.html"
    filter_form_class = FailedFilterForm
    paginate_by = 50

    def get_filter_form_kwargs(self):
        return {"brand": self.brand}

    def get_base_queryset(self):
        return FailedRecord.objects.for_user(self.request.user).filter(brand=self.brand)

    def get_queryset(self):
        if "status" not in self.request.GET:  # the open records unless the filter says otherwise
            self.request.GET = self.request.GET.copy()
            self.request.GET["status"] = "open"
        return super().get_queryset()

    def filter_queryset(self, queryset, data):
        if self.brand is None:
            return queryset.none()
        return filter_failed(self.request.user, self.brand, data).select_related("file")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            rows=[{"record": r, "colour": FAILED_COLOURS.get(r.status, "secondary"),
                   "a_number": (r.original or {}).get("a_number", "")} for r in context["object_list"]],
            can_rerate=may(user, self.brand, "rerate") and may(user, self.brand, "change"),
            can_delete=may(user, self.brand, "delete_failed"),
            query=filter_query(self.filter_form), filter_fields=FILTER_FIELDS,
        )
        context["can_act"] = context["can_rerate"] or context["can_delete"]
        return context


class FailedDetailView(ScopedDetailView):
    model = FailedRecord
    area = AREA
    template_name = "rating/failed/detail.html"
    context_object_name = "record"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        record, user = self.object, self.request.user
        context.update(
            title=record.record_id or _("line %(line)s") % {"line": record.line},
            colour=FAILED_COLOURS.get(record.status, "secondary"),
            is_parse_error=record.reason == PARSE_ERROR, raw_text=(record.original or {}).get("text", ""),
            fields=[] if record.reason == PARSE_ERROR else original_fields(record),
            can_rerate=record.status == "open" and may(user, record, "rerate") and may(user, record, "change"),
            can_delete=record.status == "open" and may(user, record, "delete_failed"),
        )
        return context


class FailedActionView(AreaMixin, View):
    """POST: re-rate or delete the chosen failed records (or all that match the posted filter)."""

    area = AREA
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = FailedActionForm(request.POST)
        back = safe_next(request, reverse("rating:failed_list"))
        if not form.is_valid():
            messages.error(request, _("Unknown action."))
            return HttpResponseRedirect(back)
        action = form.cleaned_data["action"]
        if not area_allowed(request.user, self.brand, AREA, ACTION_RIGHTS[action]):
            raise PermissionDenied
        records = self.chosen(form, ACTION_RIGHTS[action])
        ids = list(records.values_list("pk", flat=True))
        if not ids:
            messages.error(request, _("Choose the records first, or all that match the filter."))
            return HttpResponseRedirect(back)
        if action == "delete" and not form.cleaned_data["confirm"]:
            return self.confirm_delete(form, records, ids, back)
        try:
            if action == "rerate":
                self.rerated(failed.rerate_failed(self.brand, ids, actor=self.actor(), at=clock.now()))
            else:
                count = failed.delete_failed(self.brand, ids, actor=self.actor(), at=clock.now())
                messages.success(request, _("%(n)s failed records deleted.") % {"n": count})
        except ServiceError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(back)

    def rerated(self, result: dict) -> None:
        """Say how a re-rate went: records taken in again (with their new files) and those skipped."""
        text = _("%(n)s failed records taken in again to be rated.") % {"n": result.get("requeued", 0)}
        skipped = result.get("skipped") or {}
        if skipped:
            text += " " + _("Skipped: %(list)s.") % {
                "list": ", ".join(f"{count} {reason}" for reason, count in sorted(skipped.items()))}
        files = result.get("files") or []
        if files:
            text += " " + _("Usage files: %(ids)s.") % {"ids": ", ".join(f"#{pk}" for pk in files)}
        messages.success(self.request, text)

    def chosen(self, form, right: str):
        """The open records this user may act on in the active brand: the posted ids, or the filter's."""
        if form.cleaned_data["all_matching"]:
            filters = FailedFilterForm(self.request.POST, brand=self.brand)
            if not filters.is_valid():
                return FailedRecord.objects.none()
            return filter_failed(self.request.user, self.brand, filters.cleaned_data, right).filter(status="open")
        ids = [int(v) for v in self.request.POST.getlist("ids") if v.isdigit()]
        return failed_records(self.request.user, brand=self.brand, ids=ids, status="open", action=right)

    def confirm_delete(self, form, records, ids, back):
        context = {
            "title": _("Delete failed records"), "current_area": AREA, "count": len(ids),
            "sample": list(records.order_by("-created_at", "-id")[:10]), "post": self.request.POST,
            "all_matching": form.cleaned_data["all_matching"], "ids": ids, "back": back,
            "filter_values": [(name, self.request.POST.get(name)) for name in FILTER_FIELDS
                              if self.request.POST.get(name)],
        }
        return TemplateResponse(self.request, "rating/failed/confirm_delete.html", context)

