"""Webhook screens (namespace `events`)."""

from django.urls import path

from telora.events import views

app_name = "events"
urlpatterns = [
    path("webhooks/", views.DeliveryListView.as_view(), name="deliveries"),
    path("webhooks/<int:pk>/", views.DeliveryDetailView.as_view(), name="delivery_detail"),
    path("webhooks/<int:pk>/redeliver/", views.RedeliverView.as_view(), name="redeliver"),
]
