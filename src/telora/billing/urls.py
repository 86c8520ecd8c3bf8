"""Billing's screens (namespace `billing`)."""

from django.urls import path

from telora.billing.views import adjustments, invoices, runs
from telora.billing.views import settings as billing_settings
from telora.billing.views import templates as invoice_templates
from telora.billing.views.resume import RunResumeView

app_name = "billing"
urlpatterns = [
    path("", runs.RunListView.as_view(), name="run_list"),
    path("runs/new/", runs.RunStartView.as_view(), name="run_start"),
    path("runs/<int:pk>/", runs.RunDetailView.as_view(), name="run_detail"),
    path("runs/<int:pk>/progress/", runs.RunProgressView.as_view(), name="run_progress"),
    path("runs/<int:pk>/compare/", runs.RunCompareView.as_view(), name="run_compare"),
    path("runs/<int:pk>/approve/", runs.RunApproveView.as_view(), name="run_approve"),
    path("runs/<int:pk>/pdfs/", runs.RunPdfsView.as_view(), name="run_pdfs"),
    path("runs/<int:pk>/delete/", runs.RunDeleteView.as_view(), name="run_delete"),
    path("runs/<int:pk>/confirm/", runs.RunConfirmView.as_view(), name="run_confirm"),
    path("runs/<int:pk>/resume/", RunResumeView.as_view(), name="run_resume"),
    path("invoices/", invoices.InvoiceListView.as_view(), name="invoice_list"),
    path("invoices/<int:pk>/", invoices.InvoiceDetailView.as_view(), name="invoice_detail"),
    path("invoices/<int:pk>/pdf/", invoices.InvoicePdfView.as_view(), name="invoice_pdf"),
    path("adjustments/", adjustments.AdjustmentListView.as_view(), name="adjustment_list"),
    path("adjustments/new/", adjustments.AdjustmentCreateView.as_view(), name="adjustment_create"),
    path("settings/", billing_settings.SettingsView.as_view(), name="settings"),
    path("templates/", invoice_templates.TemplateListView.as_view(), name="template_list"),
    path("templates/edit/", invoice_templates.TemplateEditView.as_view(), name="template_edit"),
    path("templates/default.pdf", invoice_templates.DefaultPreviewView.as_view(),
         name="template_default_preview"),
    path("templates/use-default/", invoice_templates.UseDefaultView.as_view(), name="template_use_default"),
    path("templates/<int:pk>/", invoice_templates.TemplateDetailView.as_view(), name="template_detail"),
    path("templates/<int:pk>/pdf/", invoice_templates.TemplatePreviewView.as_view(), name="template_preview"),
    path("templates/<int:pk>/activate/", invoice_templates.TemplateActivateView.as_view(),
         name="template_activate"),
]
