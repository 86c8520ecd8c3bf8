"""Bill runs: the list, starting a test run (a job follows it, polled on the run's page), the run's
page with its summary, the comparison with another run of the brand, approving a test run into a
production run (billing.approve, after a confirmation) and deleting a test run."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telora.billing import services
from telora.billing.forms import CompareForm, RunStartForm
from telora.billing.models import BillRun, Invoice
from telora.billing.services.resume import alive
from telora.billing.views.common import AREA, POLL_SECONDS, RUN_COLOURS, may, run_progress
from telora.core import clock
from telora.core.models import Job
from telora.core.services import ServiceError
from telora.core.services.jobs import start_job
from telora.ui.views.generic import (
    AreaMixin,
    ScopedDetailView,
    ScopedListView,
    ServiceActionView,
    ServiceFormView,
    is_htmx,
)


def queue_run(run: BillRun, *, actor, at):
    """The job that executes the run on a worker."""
    return start_job("billing.run", actor=actor, at=at, brand=run.brand, params={"run_id": run.pk},
                     title=f"{run.kind.capitalize()} bill run {run.pk} {run.period_start:%Y-%m}")


class RunListView(ScopedListView):
    model = BillRun
    area = AREA
    title = gettext_lazy("Bill runs")
    template_name = "billing/runs/list.html"

    def get_base_queryset(self):
        return BillRun.objects.for_user(self.request.user).filter(brand=self.brand).select_related("cycle", "brand")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = [{"run": r, "progress": run_progress(r)} for r in context["object_list"]]
        context["can_start"] = may(self.request.user, self.brand, "change")
        context["colours"] = RUN_COLOURS
        return context


class RunStartView(AreaMixin, ServiceFormView):
    """A test run of the active brand: recorded, then executed by a job; its page follows it."""

    area = AREA
    action = "change"
    title = gettext_lazy("Start a test run")
    template_name = "billing/runs/start.html"
    form_class = RunStartForm

    def check_rights(self) -> None:
        super().check_rights()
        if self.brand is None:
            raise PermissionDenied  # a run is of the active brand

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "brand": self.brand}

    def get_initial(self):
        last = clock.today(self.brand).replace(day=1) - dt.timedelta(days=1)
        return {"period": f"{last:%Y-%m}"}

    def perform(self, form, *, actor, at):
        data = form.cleaned_data
        with transaction.atomic():
            run = services.start_run(self.brand, data["cycle"], data["period"], data["groups"], "test",
                                     actor=actor, at=at)
            queue_run(run, actor=actor, at=at)
        return run

    def get_success_message(self, result) -> str:
        return _("Test run %(pk)s started for %(n)s accounts. This page follows it.") % {
            "pk": result.pk, "n": result.accounts_total}

    def get_success_url(self, result=None) -> str:
        return reverse("billing:run_detail", args=[result.pk])


class RunDetailView(ScopedDetailView):
    """A run's page; its progress part is refreshed by `RunProgressView` while the run is not done."""

    model = BillRun
    area = AREA
    template_name = "billing/runs/detail.html"
    context_object_name = "run"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run, user = self.object, self.request.user
        summary = run.summary or {}
        pdf_job = Job.objects.filter(kind="billing.pdfs", params__run_id=run.pk).order_by("-id").first()
        run_job = run.job or Job.objects.filter(kind="billing.run", params__run_id=run.pk).order_by("-id").first()
        job_failed = run_job is not None and run_job.status == Job.Status.FAILED and run.status != "done"
        stalled = run.status in ("queued", "running") and not job_failed and not alive(run)
        pdfs_stored = Invoice.objects.filter(run=run).exclude(pdf="").count()
        context.update(
            run_job=run_job, job_failed=job_failed, stalled=stalled, pdf_job=pdf_job, pdfs_stored=pdfs_stored,
            # once the PDF job ended, the invoices it could not make (its log says why)
            pdfs_missing=(max(0, (summary.get("invoices") or 0) - pdfs_stored)
                          if pdf_job is not None and pdf_job.is_finished else 0),
            can_render=run.status == "done" and may(user, run, "change")
            and (pdf_job is None or pdf_job.is_finished),
            title=_("Bill run %(pk)s") % {"pk": run.pk}, progress=run_progress(run), colours=RUN_COLOURS,
            polling=(run.status in ("queued", "running") and not job_failed and not stalled)
            or (pdf_job is not None and not pdf_job.is_finished), poll_seconds=POLL_SECONDS, summary=summary,
            per_kind=sorted((summary.get("per_kind") or {}).items()),
            taxes=sorted((summary.get("taxes") or {}).items()),
            compare_form=CompareForm(run=run, user=user),
            can_approve=run.kind == "test" and run.status == "done" and may(user, run, "approve"),
            can_delete=(run.kind == "test" and run.status != "running" and may(user, run, "change"))
            or (run.status == "held" and may(user, run, "approve")),
            can_confirm=run.status == "held" and may(user, run, "approve"),
            approved_into=BillRun.objects.for_user(user).filter(approved_from=run).order_by("id"),
            invoices_url=reverse("billing:invoice_list") + f"?run={run.pk}",
        )
        return context


class RunProgressView(RunDetailView):
    """The polled part of a run's page; once nothing is left to follow, the whole page is reloaded
    (its buttons and details change when a run finishes)."""

    template_name = "billing/runs/_progress.html"

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if is_htmx(request) and not response.context_data["polling"]:
            response["HX-Refresh"] = "true"
        return response


class RunCompareView(ScopedDetailView):
    """This run against another of the same brand (`?other=<id>`): per account, invoices new in this
    run, removed from it, and changed with the lines that differ."""

    model = BillRun
    area = AREA
    template_name = "billing/runs/compare.html"
    context_object_name = "run"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = CompareForm(self.request.GET, run=self.object, user=self.request.user)
        if not form.is_valid():
            raise Http404  # another brand's run or none: as if it did not exist
        other = form.cleaned_data["other"]
        context.update(title=_("Run %(a)s against run %(b)s") % {"a": self.object.pk, "b": other.pk},
                       other=other, diff=services.compare_runs(other, self.object), compare_form=form)
        return context


class RunApproveView(ScopedDetailView):
    """GET: the confirmation; POST: a production run from the test run, queued as a job."""

    model = BillRun
    area = AREA
    required_action = "approve"
    template_name = "billing/runs/confirm_approve.html"
    context_object_name = "run"

    def post(self, request, *args, **kwargs):
        run, actor, at = self.object, self.actor(), clock.now()
        try:
            with transaction.atomic():
                production = services.approve(run, actor=actor, at=at)
                queue_run(production, actor=actor, at=at)
        except ServiceError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("billing:run_detail", args=[run.pk]))
        messages.success(request, _("Production run %(pk)s started from test run %(test)s.")
                         % {"pk": production.pk, "test": run.pk})
        return HttpResponseRedirect(reverse("billing:run_detail", args=[production.pk]))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(title=_("Approve test run %(pk)s") % {"pk": self.object.pk},
                       invoices=Invoice.objects.filter(run=self.object).count())
        return context


class RunPdfsView(ServiceActionView):
    """Queue the job that renders and stores the PDFs of a finished run's invoices."""

    model = BillRun
    area = AREA
    required_action = "change"
    success_message = gettext_lazy("The invoices' PDFs are being rendered; this page follows it.")

    def perform(self, obj, *, actor, at):
        if obj.status != "done":
            raise ServiceError(_("run: PDFs are made once the run is done"), field="run")
        start_job("billing.pdfs", actor=actor, at=at, brand=obj.brand, params={"run_id": obj.pk},
                  title=f"Invoice PDFs of bill run {obj.pk}")

    def get_success_url(self) -> str:
        return reverse("billing:run_detail", args=[self.object.pk])


class RunConfirmView(ServiceActionView):
    """A production run held by its approval check goes on (billing.approve): queued as a job."""

    model = BillRun
    area = AREA
    required_action = "approve"
    success_message = gettext_lazy("Confirmed: the production run issues the invoices as they are now.")

    def perform(self, obj, *, actor, at):
        run = services.confirm_run(obj, actor=actor, at=at)
        BillRun.objects.filter(pk=run.pk).update(job=queue_run(run, actor=actor, at=at))

    def get_success_url(self) -> str:
        return reverse("billing:run_detail", args=[self.object.pk])


class RunDeleteView(ServiceActionView):
    model = BillRun
    area = AREA
    required_action = "change"
    success_message = gettext_lazy("The run was deleted.")

    def check_rights(self) -> None:
        super().check_rights()
        if self.object.kind != "test" and self.object.status != "held":
            raise PermissionDenied

    def perform(self, obj, *, actor, at):
        services.delete_run(obj, actor=actor, at=at)

    def get_success_url(self) -> str:
        return reverse("billing:run_list")
