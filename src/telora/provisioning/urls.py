"""The provisioning screens (namespace `provisioning`) and the targets' callback endpoint."""

from django.urls import path

from telora.provisioning import views

app_name = "provisioning"
urlpatterns = [
    path("", views.LogView.as_view(), name="log"),
    path("<int:pk>/", views.RequestView.as_view(), name="request"),
    path("<int:pk>/manual/", views.ManualView.as_view(), name="manual"),
    path("barring/", views.BarringView.as_view(), name="barring"),
    path("targets/", views.TargetListView.as_view(), name="targets"),
    path("targets/new/", views.TargetEditView.as_view(), name="target_new"),
    path("targets/<slug:code>/", views.TargetEditView.as_view(), name="target"),
    path("callback/<int:target_id>/", views.CallbackView.as_view(), name="callback"),
]
