"""The letters module's screens (namespace `letters`)."""

from django.urls import path

from telora.letters import views

app_name = "letters"
urlpatterns = [
    path("", views.OutboxView.as_view(), name="outbox"),
    path("<int:pk>/", views.LetterView.as_view(), name="letter"),
    path("<int:pk>/pdf/", views.LetterPdfView.as_view(), name="letter_pdf"),
    path("<int:pk>/resend/", views.ResendView.as_view(), name="resend"),
    path("templates/", views.TemplateListView.as_view(), name="templates"),
    path("templates/edit/", views.TemplateEditView.as_view(), name="template_edit"),
    path("templates/<int:pk>/", views.TemplateDetailView.as_view(), name="template"),
    path("templates/<int:pk>/activate/", views.TemplateActivateView.as_view(), name="template_activate"),
    path("triggers/", views.TriggerListView.as_view(), name="triggers"),
    path("triggers/new/", views.TriggerEditView.as_view(), name="trigger_new"),
    path("triggers/<int:pk>/", views.TriggerEditView.as_view(), name="trigger"),
    path("print/", views.PrintQueueView.as_view(), name="print_queue"),
    path("print/<int:pk>/<str:kind>/", views.BatchFileView.as_view(), name="batch_file"),
    path("print/<int:pk>/do/<str:action>/", views.BatchActionView.as_view(), name="batch_action"),
    path("customers/<int:pk>/send/", views.AdHocView.as_view(), name="adhoc"),
]
