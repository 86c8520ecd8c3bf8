"""The provisioning screens (namespace `provisioning`) and the targets' callback endpoint."""

from django.urls import path

from telora.provisioning import sequencing_views, views

app_name = "provisioning"
urlpatterns = [
    path("", views.LogView.as_view(), name="log"),
    path("<int:pk>/", views.RequestView.as_view(), name="request"),
    path("<int:pk>/manual/", views.ManualView.as_view(), name="manual"),
    path("targets/", views.TargetListView.as_view(), name="targets"),
    path("targets/new/", views.TargetEditView.as_view(), name="target_new"),
    path("targets/<slug:code>/", views.TargetEditView.as_view(), name="target"),
    path("sequencing/", sequencing_views.SequencingView.as_view(), name="sequencing"),
    path("sequencing/export/", sequencing_views.SequencingExportView.as_view(), name="sequencing_export"),
    path("callback/<int:target_id>/", views.CallbackView.as_view(), name="callback"),
]
