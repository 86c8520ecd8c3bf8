"""Data protection's screens (namespace `privacy`)."""

from django.urls import path

from telora.privacy import views

app_name = "privacy"
urlpatterns = [
    path("", views.RetentionView.as_view(), name="retention"),
    path("customers/<int:pk>/export/", views.ExportStartView.as_view(), name="export"),
    path("customers/<int:pk>/erase/", views.EraseStartView.as_view(), name="erase"),
    path("customers/<int:pk>/consents/", views.ConsentCreateView.as_view(), name="consent"),
]
