"""The order screens (namespace `orders`), mounted at /orders/."""

from django.urls import path

from telora.orders import views

app_name = "orders"
urlpatterns = [
    path("", views.OrderListView.as_view(), name="order_list"),
    path("<int:pk>/", views.OrderDetailView.as_view(), name="order_detail"),
    path("<int:pk>/cancel/", views.OrderCancelView.as_view(), name="order_cancel"),
    path("<int:pk>/notes/", views.OrderNoteView.as_view(), name="order_note"),
]
