"""Invoices: the list with its search (number, account, customer, status, run, period), an
invoice's page (sections, lines, totals, tax table) and its PDF, streamed after a rights check; when
it is not stored yet a job makes it (never the web request): the page waits a few seconds for it,
then shows its progress and opens the PDF when it is there."""

from __future__ import annotations

from django.contrib import messages
from django.core.files.storage import default_storage
from django.db.models import Q
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from telora.billing.documents.contract import file_name
from telora.billing.forms import InvoiceFilterForm
from telora.billing.models import Invoice
from telora.billing.services import pdfs
from telora.billing.views.common import AREA, INVOICE_COLOURS
from telora.core import clock
from telora.core.models import Job
from telora.ui.views.generic import ScopedDetailView, ScopedListView, ScopedObjectMixin, is_htmx


class InvoiceListView(ScopedListView):
    model = Invoice
    area = AREA
    title = gettext_lazy("Invoices")
    template_name = "billing/invoices/list.html"
    results_template_name = "billing/invoices/_table.html"
    filter_form_class = InvoiceFilterForm
    paginate_by = 50

    def get_base_queryset(self):
        return (Invoice.objects.for_user(self.request.user).filter(brand=self.brand)
                .select_related("account__customer", "run").defer("document").order_by("-id"))

    def filter_queryset(self, queryset, data):
        q = (data.get("q") or "").strip()
        if q:
            queryset = queryset.filter(Q(number__icontains=q) | Q(account__number__iexact=q)
                                       | Q(account__customer__number__iexact=q) | Q(account__name__icontains=q)
                                       | Q(account__customer__name__icontains=q))
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("run"):
            queryset = queryset.filter(run_id=data["run"])
        if data.get("period"):
            year, month = (int(x) for x in data["period"].split("-"))
            queryset = queryset.filter(period_start__year=year, period_start__month=month)
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["colours"] = INVOICE_COLOURS
        return context


class InvoiceDetailView(ScopedDetailView):
    model = Invoice
    area = AREA
    template_name = "billing/invoices/detail.html"
    context_object_name = "invoice"

    def scoped_queryset(self, action):
        return super().scoped_queryset(action).select_related("account__customer", "run")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        invoice = self.object
        document = invoice.document or {}
        context.update(title=str(invoice), doc=document, sections=document.get("sections", []),
                       taxes=document.get("taxes", []), colours=INVOICE_COLOURS,
                       pdf_url=reverse("billing:invoice_pdf", args=[invoice.pk]))
        return context


class InvoicePdfView(ScopedObjectMixin, TemplateView):
    """The invoice's PDF as a download. Not stored yet: a job makes it (`pdfs.request_pdf`); the
    request waits briefly, else answers 202 with a page that follows the job and then opens the PDF."""

    model = Invoice
    area = AREA
    template_name = "billing/invoices/pdf_wait.html"
    poll_seconds = 2

    def get(self, request, *args, **kwargs):
        invoice = self.object
        polling = is_htmx(request)
        followed = request.GET.get("job", "")
        name, job = pdfs.request_pdf(invoice, actor=self.actor(), at=clock.now(), wait=0 if polling else None,
                                     job_id=int(followed) if followed.isdigit() else None)
        detail = reverse("billing:invoice_detail", args=[invoice.pk])
        if job is not None and job.status == Job.Status.FAILED:  # the brand's template is at fault: say so
            messages.error(request, _("The PDF could not be made: %(error)s") % {"error": pdfs.job_error(job)})
            return self._go(detail, polling)
        if name is not None:
            if polling:
                return self._go(reverse("billing:invoice_pdf", args=[invoice.pk]), polling)
            return FileResponse(default_storage.open(name, "rb"), as_attachment=True,
                                filename=file_name(invoice.document), content_type="application/pdf")
        if polling:
            self.template_name = "billing/invoices/_pdf_wait.html"
        context = self.get_context_data(job=job, title=_("PDF of %(invoice)s") % {"invoice": invoice},
                                        poll_seconds=self.poll_seconds, detail_url=detail)
        return self.render_to_response(context, status=202)

    @staticmethod
    def _go(url: str, polling: bool):
        if not polling:
            return HttpResponseRedirect(url)
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url  # HTMX leaves the waiting page for the PDF (or the invoice)
        return response
