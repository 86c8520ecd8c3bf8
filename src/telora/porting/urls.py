"""The porting screens (namespace `porting`) and the clearing house's callback endpoint."""

from django.urls import path

from telora.porting import views

app_name = "porting"
urlpatterns = [
    path("", views.RequestListView.as_view(), name="list"),
    path("<int:pk>/", views.RequestView.as_view(), name="request"),
    path("port-in/<int:customer_id>/", views.PortInView.as_view(), name="port_in"),
    path("clearing-house/", views.ClearingHouseView.as_view(), name="clearing_house"),
    path("callback/<int:house_id>/", views.CallbackView.as_view(), name="callback"),
]
