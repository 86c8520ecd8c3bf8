"""Desks and flows on screen (namespace `workflows`)."""

from django.urls import path

from telora.workflows import views

app_name = "workflows"
urlpatterns = [
    path("", views.DeskListView.as_view(), name="desk_list"),
    path("desks/<int:pk>/", views.DeskView.as_view(), name="desk"),
    path("calendar/", views.BusinessCalendarView.as_view(), name="calendar"),
    path("tasks/<int:pk>/", views.TaskView.as_view(), name="task"),
    path("tasks/<int:pk>/claim/", views.ClaimView.as_view(), name="claim"),
    path("tasks/<int:pk>/unclaim/", views.UnclaimView.as_view(), name="unclaim"),
    path("flows/", views.FlowListView.as_view(), name="flow_list"),
    path("flows/<int:pk>/doc/", views.FlowDocView.as_view(), name="flow_doc"),
    path("flows/diff/", views.FlowDiffView.as_view(), name="diff"),
    path("versions/<int:pk>/", views.FlowVersionView.as_view(), name="version"),
    path("versions/<int:pk>/edit/", views.FlowBuilderView.as_view(), name="builder"),
    path("versions/<int:pk>/publish/", views.PublishVersionView.as_view(), name="publish"),
]
