"""Rating's screens (namespace `rating`)."""

from django.urls import path

from telora.rating.views import batches, failed, files, settings, sources, usage

app_name = "rating"
urlpatterns = [
    path("", files.FileListView.as_view(), name="file_list"),
    path("files/upload/", files.UploadView.as_view(), name="upload"),
    path("files/<int:pk>/", files.FileDetailView.as_view(), name="file_detail"),
    path("files/<int:pk>/progress/", files.FileProgressView.as_view(), name="file_progress"),
    path("jobs/", batches.BatchListView.as_view(), name="batch_list"),
    path("failed/", failed.FailedListView.as_view(), name="failed_list"),
    path("failed/action/", failed.FailedActionView.as_view(), name="failed_action"),
    path("failed/<int:pk>/", failed.FailedDetailView.as_view(), name="failed_detail"),
    path("subscriptions/<int:pk>/usage/", usage.SubscriptionUsageView.as_view(), name="subscription_usage"),
    path("subscriptions/<int:pk>/top-up/", usage.TopUpView.as_view(), name="top_up"),
    path("sources/", sources.SourceListView.as_view(), name="source_list"),
    path("sources/new/", sources.SourceCreateView.as_view(), name="source_create"),
    path("sources/<int:pk>/edit/", sources.SourceEditView.as_view(), name="source_edit"),
    path("sources/<int:pk>/scan/", sources.SourceScanView.as_view(), name="source_scan"),
    path("settings/", settings.RatingSettingsView.as_view(), name="settings"),
]
