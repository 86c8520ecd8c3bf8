"""CSV uploads of SIM cards and numbers: the upload (a background job), its progress followed
live, the per-line report of what was refused, and the history of uploads."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, View

from telora.core import clock, rights
from telora.core.models import Job
from telora.core.services import ServiceError
from telora.inventory.forms import UploadForm
from telora.inventory.models import ImportBatch
from telora.inventory.selectors import import_batches_for_user
from telora.inventory.services import start_import
from telora.inventory.services.imports import NUMBER_COLUMNS, SIM_COLUMNS
from telora.inventory.views.common import may
from telora.ui.views.generic import AreaMixin, ScopedDetailView, ScopedListView, ScopedObjectMixin

POLL_SECONDS = 2
IMPORT_KIND = "inventory_import"
SHOWN_ERRORS = 1000


def import_jobs_for_user(user):
    """Import jobs of the brands where the user sees the inventory (no jobs area needed)."""
    jobs = Job.objects.filter(kind=IMPORT_KIND)
    brand_ids = rights.brands_with(user, "inventory.view")
    return jobs if brand_ids is rights.ALL else jobs.filter(brand_id__in=brand_ids)


class ImportListView(ScopedListView):
    model = ImportBatch
    area = "inventory"
    title = gettext_lazy("Imports")
    template_name = "inventory/imports/list.html"

    def get_base_queryset(self):
        return import_batches_for_user(self.request.user).filter(brand=self.brand).select_related("job")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["running"] = import_jobs_for_user(self.request.user).filter(
            brand=self.brand, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).order_by("-created_at")
        context["can_import"] = may(self.request.user, self.brand, "import") if self.brand else False
        return context


class UploadView(AreaMixin, FormView):
    area = "inventory"
    action = "import"
    title = gettext_lazy("Upload SIM cards or numbers")
    template_name = "inventory/imports/upload.html"
    form_class = UploadForm

    def get_initial(self):
        return {"what": self.request.GET.get("what") or ImportBatch.Kind.SIMS}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sim_columns"], context["number_columns"] = SIM_COLUMNS, NUMBER_COLUMNS
        context["recent"] = import_batches_for_user(self.request.user).filter(brand=self.brand)[:5]
        return context

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        try:
            job = start_import(self.brand, form.cleaned_data["what"], upload, actor=self.actor(), at=clock.now(),
                               file_name=upload.name)
        except ServiceError as exc:
            form.add_error("file" if exc.field in ("file", None) else None, exc.message)
            return self.form_invalid(form)
        messages.success(self.request, _("%(file)s is being imported. This page follows it.") % {"file": upload.name})
        return HttpResponseRedirect(reverse("inventory:import_job", args=[job.pk]))


class ImportJobView(ScopedDetailView):
    """An import as it runs: progress polled by HTMX, then the report of its batch."""

    model = Job
    area = "inventory"
    template_name = "inventory/imports/job.html"
    context_object_name = "job"

    def scoped_queryset(self, action):
        return import_jobs_for_user(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = self.object
        batch = ImportBatch.objects.filter(job=job).first()
        context.update(title=job.title, batch=batch, poll_seconds=POLL_SECONDS, shown_errors=SHOWN_ERRORS,
                       error_line=(job.error or "").strip().splitlines()[0] if job.error else "")
        return context


class ImportProgressView(ImportJobView):
    template_name = "inventory/imports/_progress.html"


class ImportBatchView(ScopedDetailView):
    model = ImportBatch
    area = "inventory"
    template_name = "inventory/imports/batch.html"
    context_object_name = "batch"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(title=str(self.object), shown_errors=SHOWN_ERRORS)
        return context


class ImportErrorsView(ScopedObjectMixin, View):
    """Every refused line of an upload as a text file, to fix the CSV and upload it again."""

    model = ImportBatch
    area = "inventory"

    def get(self, request, *args, **kwargs):
        batch = self.object
        lines = list(batch.errors)
        if batch.errors_truncated:
            lines.append(_("... and %(n)s more, not stored") % {"n": batch.errors_truncated})
        response = HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.txt"'
        return response
