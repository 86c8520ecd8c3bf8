"""The inventory's screens (namespace `inventory`)."""

from django.urls import path

from telora.inventory.views import groups, home, imports, numbers, sims

app_name = "inventory"
urlpatterns = [
    path("", home.InventoryHomeView.as_view(), name="home"),
    path("sims/", sims.SimListView.as_view(), name="sim_list"),
    path("sims/new/", sims.SimCreateView.as_view(), name="sim_create"),
    path("sims/<int:pk>/", sims.SimDetailView.as_view(), name="sim_detail"),
    path("sims/<int:pk>/codes/", sims.SimSecretsView.as_view(), name="sim_secrets"),
    path("sims/<int:pk>/block/", sims.SimActionView.as_view(verb="block"), name="sim_block"),
    path("sims/<int:pk>/unblock/", sims.SimActionView.as_view(verb="unblock"), name="sim_unblock"),
    path("sims/<int:pk>/retire/", sims.SimActionView.as_view(verb="retire"), name="sim_retire"),
    path("numbers/", numbers.NumberListView.as_view(), name="number_list"),
    path("numbers/new/", numbers.NumberCreateView.as_view(), name="number_create"),
    path("numbers/<int:pk>/", numbers.NumberDetailView.as_view(), name="number_detail"),
    path("numbers/<int:pk>/reserve/", numbers.NumberActionView.as_view(verb="reserve"), name="number_reserve"),
    path("numbers/<int:pk>/cancel/", numbers.NumberActionView.as_view(verb="cancel"), name="number_cancel"),
    path("numbers/<int:pk>/release/", numbers.NumberActionView.as_view(verb="release"), name="number_release"),
    path("numbers/<int:pk>/end-quarantine/", numbers.NumberActionView.as_view(verb="end_quarantine"),
         name="number_end_quarantine"),
    path("groups/", groups.GroupListView.as_view(), name="group_list"),
    path("groups/new/", groups.GroupCreateView.as_view(), name="group_create"),
    path("groups/<int:pk>/", groups.GroupDetailView.as_view(), name="group_detail"),
    path("groups/<int:pk>/edit/", groups.GroupEditView.as_view(), name="group_edit"),
    path("groups/<int:pk>/delete/", groups.GroupDeleteView.as_view(), name="group_delete"),
    path("imports/", imports.ImportListView.as_view(), name="import_list"),
    path("imports/upload/", imports.UploadView.as_view(), name="upload"),
    path("imports/<int:pk>/", imports.ImportBatchView.as_view(), name="import_detail"),
    path("imports/<int:pk>/errors.txt", imports.ImportErrorsView.as_view(), name="import_errors"),
    path("imports/jobs/<int:pk>/", imports.ImportJobView.as_view(), name="import_job"),
    path("imports/jobs/<int:pk>/progress/", imports.ImportProgressView.as_view(), name="import_progress"),
]
