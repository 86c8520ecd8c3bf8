"""The customer screens (namespace `customers`), mounted at /customers/."""

from django.urls import path

from telora.customers.views import agreements, customers, parts, subscriptions

app_name = "customers"
urlpatterns = [
    path("", customers.CustomerListView.as_view(), name="customer_list"),
    path("new/", customers.CustomerCreateView.as_view(), name="customer_create"),
    path("pick/", customers.CustomerPickView.as_view(), name="customer_pick"),
    path("<int:pk>/", customers.CustomerDetailView.as_view(), name="customer_detail"),
    path("<int:pk>/edit/", customers.CustomerEditView.as_view(), name="customer_edit"),
    path("<int:pk>/addresses/new/", parts.AddressCreateView.as_view(), name="address_create"),
    path("<int:pk>/contacts/new/", parts.ContactCreateView.as_view(), name="contact_create"),
    path("<int:pk>/accounts/new/", parts.AccountCreateView.as_view(), name="account_create"),
    path("<int:pk>/files/new/", parts.FileUploadView.as_view(), name="file_upload"),
    path("<int:pk>/agreements/new/", agreements.AgreementCreateView.as_view(), name="agreement_create"),
    path("<int:pk>/agreements/<int:agreement>/end/", agreements.AgreementEndView.as_view(), name="agreement_end"),
    path("<int:pk>/subscriptions/new/", subscriptions.SubscriptionCreateView.as_view(), name="subscription_create"),
    path("addresses/<int:pk>/edit/", parts.AddressEditView.as_view(), name="address_edit"),
    path("addresses/<int:pk>/remove/", parts.AddressRemoveView.as_view(), name="address_remove"),
    path("contacts/<int:pk>/edit/", parts.ContactEditView.as_view(), name="contact_edit"),
    path("contacts/<int:pk>/remove/", parts.ContactRemoveView.as_view(), name="contact_remove"),
    path("accounts/<int:pk>/", parts.AccountDetailView.as_view(), name="account_detail"),
    path("accounts/<int:pk>/edit/", parts.AccountEditView.as_view(), name="account_edit"),
    path("files/<int:pk>/download/", parts.FileDownloadView.as_view(), name="file_download"),
    path("files/<int:pk>/delete/", parts.FileDeleteView.as_view(), name="file_delete"),
    path("subscriptions/<int:pk>/", subscriptions.SubscriptionDetailView.as_view(), name="subscription_detail"),
    path("subscriptions/<int:pk>/change-plan/", subscriptions.ChangePlanView.as_view(), name="change_plan"),
    path("subscriptions/<int:pk>/addons/new/", subscriptions.AddAddonView.as_view(), name="add_addon"),
    path("subscriptions/<int:pk>/addons/<int:instance>/remove/", subscriptions.RemoveAddonView.as_view(),
         name="remove_addon"),
    path("subscriptions/<int:pk>/one-time/new/", subscriptions.AddOneTimeView.as_view(), name="add_one_time"),
    path("subscriptions/<int:pk>/activate/", subscriptions.ActivateView.as_view(), name="activate"),
    path("subscriptions/<int:pk>/suspend/", subscriptions.SuspendView.as_view(), name="suspend"),
    path("subscriptions/<int:pk>/resume/", subscriptions.ResumeView.as_view(), name="resume"),
    path("subscriptions/<int:pk>/terminate/", subscriptions.TerminateView.as_view(), name="terminate"),
    path("subscriptions/<int:pk>/swap-sim/", subscriptions.SwapSimView.as_view(), name="swap_sim"),
    path("subscriptions/<int:pk>/change-number/", subscriptions.ChangeNumberView.as_view(), name="change_number"),
]
