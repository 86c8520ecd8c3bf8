"""The provisioning screens (namespace `provisioning`) and the targets' callback endpoint."""

from django.urls import path

from telora.provisioning import sequencing_views, views, views_reliability

app_name = "provisioning"
urlpatterns = [
    path("", views.LogView.as_view(), name="log"),
    path("<int:pk>/", views.RequestView.as_view(), name="request"),
    path("<int:pk>/manual/", views.ManualView.as_view(), name="manual"),
    path("barring/", views.BarringView.as_view(), name="barring"),
    path("targets/", views.TargetListView.as_view(), name="targets"),
    path("targets/new/", views.TargetEditView.as_view(), name="target_new"),
    path("targets/<slug:code>/", views.TargetEditView.as_view(), name="target"),
    path("sequencing/", sequencing_views.SequencingView.as_view(), name="sequencing"),
    path("sequencing/export/", sequencing_views.SequencingExportView.as_view(), name="sequencing_export"),
    path("targets/<slug:code>/reconcile/", views_reliability.ReconcileView.as_view(), name="reconcile"),
    path("targets/<slug:code>/reliability/", views_reliability.ReliabilitySettingsView.as_view(), name="reliability"),
    path("targets/<slug:code>/breaker/close/", views_reliability.BreakerCloseView.as_view(), name="breaker_close"),
    path("callback/<int:target_id>/", views.CallbackView.as_view(), name="callback"),
]
