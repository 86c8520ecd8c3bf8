"""Invoices: the list with its search (number, account, customer, status, run, period), an
invoice's page (sections, lines, totals, tax table) and its PDF, streamed after a rights check and
rendered on demand when it is not stored yet."""

from __future__ import annotations

from django.contrib import messages
from django.core.files.storage import default_storage
from django.db.models import Q
from django.http import FileResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View

from telora.billing.documents.contract import file_name
from telora.billing.documents.pdf import InvoiceTemplateError
from telora.billing.forms import InvoiceFilterForm
from telora.billing.models import Invoice
from telora.billing.services import pdfs
from telora.billing.views.common import AREA, INVOICE_COLOURS
from telora.core import clock
from telora.ui.views.generic import ScopedDetailView, ScopedListView, ScopedObjectMixin


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


class InvoicePdfView(ScopedObjectMixin, View):
    """The invoice's PDF as a download; rendered and stored first when it is not there yet."""

    model = Invoice
    area = AREA

    def get(self, request, *args, **kwargs):
        invoice = self.object
        try:
            name = pdfs.stored_pdf(invoice) or pdfs.store_pdf(invoice, actor=self.actor(), at=clock.now())
        except InvoiceTemplateError as exc:  # the brand's template is at fault: say so on the invoice's page
            messages.error(request, _("The PDF could not be made: %(error)s") % {"error": exc})
            return HttpResponseRedirect(reverse("billing:invoice_detail", args=[invoice.pk]))
        return FileResponse(default_storage.open(name, "rb"), as_attachment=True,
                            filename=file_name(invoice.document), content_type="application/pdf")
