"""Jobs: long operations run by workers, followed live, and their result files."""

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View

from telora.core import clock, rights
from telora.core.models import Job
from telora.core.services import ServiceError
from telora.core.services import jobs as job_services
from telora.ui.forms.platform import JobFilterForm
from telora.ui.views.generic import AreaMixin, ScopedDetailView, ScopedListView, ScopedObjectMixin

POLL_SECONDS = 2


def result_path(job: Job) -> Path | None:
    """The job's result file under MEDIA_ROOT, or None; never a path that climbs out of it."""
    relative = (job.result or {}).get("file")
    if not relative:
        return None
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def may_download(user, job: Job) -> bool:
    """Reading a job's result needs the right its kind asked for (an audit export: audit.view)."""
    try:
        kind = job_services.get_kind(job.kind)
    except ServiceError:
        return False
    if job.brand_id is None:
        return rights.is_system_admin(user)
    return rights.has_perm(user, job.brand_id, kind.permission)


class JobListView(ScopedListView):
    model = Job
    area = "jobs"
    title = _("Jobs")
    template_name = "ui/jobs/list.html"
    results_template_name = "ui/jobs/_table.html"
    filter_form_class = JobFilterForm

    def get_base_queryset(self):
        in_brand = Q(brand=self.brand)
        if rights.is_system_admin(self.request.user):
            in_brand |= Q(brand__isnull=True)  # platform-wide jobs belong to no brand
        return Job.objects.for_user(self.request.user).filter(in_brand).select_related("created_by")

    def filter_queryset(self, queryset, data):
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["any_unfinished"] = any(not job.is_finished for job in context["object_list"])
        context["poll_seconds"] = POLL_SECONDS * 2
        context["can_export_audit"] = rights.has_perm(self.request.user, self.brand, "audit.view")
        return context


class JobDetailView(ScopedDetailView):
    model = Job
    area = "jobs"
    template_name = "ui/jobs/detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.object.title
        context["poll_seconds"] = POLL_SECONDS
        context["can_download"] = result_path(self.object) is not None and may_download(
            self.request.user, self.object)
        return context


class JobProgressView(JobDetailView):
    """The live part of the job page, fetched by HTMX every few seconds until the job finishes."""

    template_name = "ui/jobs/_progress.html"


class AuditExportStartView(AreaMixin, View):
    """Starts an audit export of the active brand; the worker writes the CSV offered for download."""

    area = "jobs"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        try:
            job = job_services.start_job(
                "audit_export", actor=self.actor(), at=clock.now(), brand=self.brand,
                params={"brand_id": self.brand.pk},
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("ui:job_list"))
        messages.success(request, _("Audit export started. This page follows its progress."))
        return HttpResponseRedirect(reverse("ui:job_detail", args=[job.pk]))


class JobDownloadView(ScopedObjectMixin, View):
    """The result file, checked against the job's rights; media files are never served raw."""

    model = Job
    area = "jobs"

    def get(self, request, *args, **kwargs):
        path = result_path(self.object)
        if path is None or not may_download(request.user, self.object):
            raise Http404
        return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)
