"""Usage files: the list with its filters, a file's page with its counts, timings, batches and a
progress bar that follows the rating live (HTMX polling while batches are pending), and the upload."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView

from telora.core import clock
from telora.core.services import ServiceError
from telora.rating import services
from telora.rating.forms import FileFilterForm, UploadForm, known_sources
from telora.rating.models import RatingBatch, UsageFile
from telora.rating.views.common import AREA, BATCH_COLOURS, FILE_COLOURS, POLL_SECONDS, may, progress, seconds
from telora.ui.views.generic import AreaMixin, ScopedDetailView, ScopedListView


def day_start(day: dt.date, brand) -> dt.datetime:
    """Midnight of `day` in the brand's timezone (UTC when no brand)."""
    tz = zoneinfo.ZoneInfo(brand.timezone) if brand is not None else dt.UTC
    return dt.datetime.combine(day, dt.time(), tzinfo=tz)


def in_days(queryset, field: str, first: dt.date | None, last: dt.date | None, brand):
    """Rows whose `field` falls on the days first..last (inclusive, in the brand's timezone)."""
    if first:
        queryset = queryset.filter(**{f"{field}__gte": day_start(first, brand)})
    if last:
        queryset = queryset.filter(**{f"{field}__lt": day_start(last + dt.timedelta(days=1), brand)})
    return queryset


def file_row(usage_file: UsageFile) -> dict:
    return {"file": usage_file, "progress": progress(usage_file),
            "colour": FILE_COLOURS.get(usage_file.status, "secondary"),
            "timings": {"parse": seconds(usage_file.parse_seconds), "rate": seconds(usage_file.rate_seconds),
                        "persist": seconds(usage_file.persist_seconds)}}


class FileListView(ScopedListView):
    model = UsageFile
    area = AREA
    title = gettext_lazy("Usage files")
    template_name = "rating/files/list.html"
    results_template_name = "rating/files/_table.html"
    filter_form_class = FileFilterForm
    paginate_by = 50

    def get_filter_form_kwargs(self):
        return {"brand": self.brand}

    def get_base_queryset(self):
        return UsageFile.objects.for_user(self.request.user).filter(brand=self.brand).order_by("-created_at", "-id")

    def filter_queryset(self, queryset, data):
        if data.get("q"):
            queryset = queryset.filter(name__icontains=data["q"].strip())
        for name in ("source", "status", "format"):
            if data.get(name):
                queryset = queryset.filter(**{name: data[name]})
        return in_days(queryset, "created_at", data.get("received_from"), data.get("received_to"), self.brand)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = [file_row(f) for f in context["object_list"]]
        context["can_upload"] = may(self.request.user, self.brand, "change")
        return context


class FileDetailView(ScopedDetailView):
    """A file's page; its progress part is refreshed by `FileProgressView` while batches are pending."""

    model = UsageFile
    area = AREA
    template_name = "rating/files/detail.html"
    context_object_name = "usage_file"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        usage_file = self.object
        batches = list(RatingBatch.objects.filter(file=usage_file).defer("payload").order_by("id"))
        pending = [b for b in batches if b.status == "pending"]
        context.update(
            title=str(usage_file), row=file_row(usage_file), batches=batches,
            batch_colours=BATCH_COLOURS, pending=len(pending), polling=bool(pending) or usage_file.status == "received",
            poll_seconds=POLL_SECONDS,
            failed_url=reverse("rating:failed_list") + f"?file={usage_file.pk}&status=any",
            open_failed=usage_file.failures.filter(status="open").count(),
        )
        return context


class FileProgressView(FileDetailView):
    template_name = "rating/files/_progress.html"


class UploadView(AreaMixin, FormView):
    """Upload a usage file: recorded, staged in batches and queued for rating; its page follows it."""

    area = AREA
    action = "change"
    title = gettext_lazy("Upload a usage file")
    template_name = "rating/files/upload.html"
    form_class = UploadForm

    def get_initial(self):
        return {"format": self.request.GET.get("format") or "csv", "source": self.request.GET.get("source", "")}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sources"] = known_sources(self.brand)
        return context

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        take = {"format": form.cleaned_data["format"], "source": form.cleaned_data["source"], "name": upload.name,
                "actor": self.actor(), "at": clock.now()}
        try:
            if (upload.size or 0) > settings.TELORA_UPLOAD_SYNC_BYTES:  # kept and read by a job, not in the request
                usage_file, _job = services.receive_usage_file(self.brand, upload, **take)
                messages.success(self.request, _("%(name)s was received; it is being read in the background. "
                                                 "This page follows it.") % {"name": usage_file.name})
                return HttpResponseRedirect(reverse("rating:file_detail", args=[usage_file.pk]))
            # A middling upload already sits in a temporary file: hand its path over instead of its bytes.
            data = upload.temporary_file_path() if hasattr(upload, "temporary_file_path") else upload.read()
            usage_file = services.import_usage_file(self.brand, data, defer=True, split=False, **take)
        except ServiceError as exc:
            message = exc.message.split(": ", 1)[1] if exc.field and exc.message.startswith(f"{exc.field}: ") \
                else exc.message
            form.add_error(exc.field if exc.field in form.fields else None, message)
            return self.form_invalid(form)
        messages.success(self.request, _("%(name)s was taken in: %(read)s records read. This page follows the rating.")
                         % {"name": usage_file.name, "read": usage_file.read})
        return HttpResponseRedirect(reverse("rating:file_detail", args=[usage_file.pk]))
