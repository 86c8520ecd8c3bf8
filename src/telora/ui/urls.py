"""The GUI's pages. Log-in and log-out live in `telora.ui.auth_urls` (not namespaced: settings name them)."""

from django.urls import path

from telora.ui.views import apikeys, audit, auth, brands, jobs, roles, shell, users

app_name = "ui"
urlpatterns = [
    path("", shell.HomeView.as_view(), name="home"),
    path("brand/switch/", shell.switch_brand, name="switch_brand"),
    path("search/", shell.SearchView.as_view(), name="search"),
    path("account/password/", auth.PasswordChangeView.as_view(), name="password_change"),
    # users area: users, roles, API keys
    path("users/", users.UserListView.as_view(), name="user_list"),
    path("users/new/", users.UserCreateView.as_view(), name="user_create"),
    path("users/<int:pk>/", users.UserDetailView.as_view(), name="user_detail"),
    path("users/<int:pk>/edit/", users.UserEditView.as_view(), name="user_edit"),
    path("users/<int:pk>/password/", users.UserSetPasswordView.as_view(), name="user_set_password"),
    path("users/<int:pk>/grants/new/", users.GrantAddView.as_view(), name="grant_add"),
    path("grants/<int:pk>/remove/", users.GrantRemoveView.as_view(), name="grant_remove"),
    path("roles/", roles.RoleListView.as_view(), name="role_list"),
    path("roles/new/", roles.RoleCreateView.as_view(), name="role_create"),
    path("roles/<int:pk>/", roles.RoleDetailView.as_view(), name="role_detail"),
    path("roles/<int:pk>/edit/", roles.RoleEditView.as_view(), name="role_edit"),
    path("api-keys/", apikeys.ApiKeyListView.as_view(), name="apikey_list"),
    path("api-keys/new/", apikeys.ApiKeyCreateView.as_view(), name="apikey_create"),
    path("api-keys/<int:pk>/revoke/", apikeys.ApiKeyRevokeView.as_view(), name="apikey_revoke"),
    # brands (system administrators)
    path("brands/", brands.BrandListView.as_view(), name="brand_list"),
    path("brands/new/", brands.BrandCreateView.as_view(), name="brand_create"),
    path("brands/<int:pk>/", brands.BrandDetailView.as_view(), name="brand_detail"),
    path("brands/<int:pk>/edit/", brands.BrandEditView.as_view(), name="brand_edit"),
    path("brands/<int:pk>/logo/", brands.BrandLogoView.as_view(), name="brand_logo"),
    # audit and jobs
    path("audit/", audit.AuditListView.as_view(), name="audit_list"),
    path("jobs/", jobs.JobListView.as_view(), name="job_list"),
    path("jobs/audit-export/", jobs.AuditExportStartView.as_view(), name="job_start_audit_export"),
    path("jobs/<int:pk>/", jobs.JobDetailView.as_view(), name="job_detail"),
    path("jobs/<int:pk>/progress/", jobs.JobProgressView.as_view(), name="job_progress"),
    path("jobs/<int:pk>/download/", jobs.JobDownloadView.as_view(), name="job_download"),
]
