"""A customer's addresses, contacts, billing accounts and files: add, change, remove, download."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telora.core.services.actors import PermissionDeniedError
from telora.customers import services
from telora.customers.forms.customers import AddressForm, BillingAccountForm, ContactForm, FileUploadForm
from telora.customers.models import Address, BillingAccount, Contact, CustomerFile
from telora.customers.selectors import open_customer_file
from telora.customers.views.common import ChildObjectMixin, CustomerObjectMixin, customer_url, history_feed
from telora.ui.views.generic import ScopedDetailView, ServiceActionView, ServiceFormView


class CustomerPartForm(CustomerObjectMixin, ServiceFormView):
    """A form adding something to a customer (`pk` is the customer's)."""

    required_action = "change"
    template_name = "customers/part_form.html"
    tab = ""
    heading = ""
    submit_label = ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.heading
        context["submit_label"] = self.submit_label
        context["back_url"] = customer_url(self.customer, self.tab)
        return context

    def get_success_url(self, result=None):
        return customer_url(self.customer, self.tab)


class PartEditForm(ChildObjectMixin, ServiceFormView):
    """A form changing one address, contact or account (`pk` is its own)."""

    required_action = "change"
    template_name = "customers/part_form.html"
    tab = ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["back_url"] = customer_url(self.customer, self.tab)
        return context

    def get_success_url(self, result=None):
        return customer_url(self.customer, self.tab)


class PartRemoveView(ChildObjectMixin, ServiceActionView):
    required_action = "change"
    tab = ""

    def get_success_url(self):
        return customer_url(self.object.customer, self.tab)


# ---- addresses ------------------------------------------------------------------------------


class AddressCreateView(CustomerPartForm):
    form_class = AddressForm
    tab = "addresses"
    submit_label = gettext_lazy("Add address")

    @property
    def heading(self):
        return _("New address of %(name)s") % {"name": self.customer.name}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "brand": self.customer.brand}

    def perform(self, form, *, actor, at):
        return services.add_address(self.customer, actor=actor, at=at, **form.cleaned_data)

    def get_success_message(self, result):
        return _("Address added.")


class AddressEditView(PartEditForm):
    model = Address
    form_class = AddressForm
    tab = "addresses"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "brand": self.object.brand, "address": self.object}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Edit address of %(name)s") % {"name": self.customer.name}
        return context

    def perform(self, form, *, actor, at):
        return services.update_address(self.object, actor=actor, at=at, **form.cleaned_data)

    def get_success_message(self, result):
        return _("Address saved.")


class AddressRemoveView(PartRemoveView):
    model = Address
    tab = "addresses"

    def perform(self, obj, *, actor, at):
        services.remove_address(obj, actor=actor, at=at)

    @property
    def success_message(self):
        return _("Address removed.")


# ---- contacts -------------------------------------------------------------------------------


class ContactCreateView(CustomerPartForm):
    form_class = ContactForm
    tab = "contacts"
    submit_label = gettext_lazy("Add contact")

    @property
    def heading(self):
        return _("New contact of %(name)s") % {"name": self.customer.name}

    def perform(self, form, *, actor, at):
        return services.add_contact(self.customer, actor=actor, at=at, **form.cleaned_data)

    def get_success_message(self, result):
        return _("Contact %(name)s added.") % {"name": result}


class ContactEditView(PartEditForm):
    model = Contact
    form_class = ContactForm
    tab = "contacts"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "contact": self.object}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Edit contact %(name)s") % {"name": self.object}
        return context

    def perform(self, form, *, actor, at):
        return services.update_contact(self.object, actor=actor, at=at, **form.cleaned_data)

    def get_success_message(self, result):
        return _("Contact saved.")


class ContactRemoveView(PartRemoveView):
    model = Contact
    tab = "contacts"

    def perform(self, obj, *, actor, at):
        services.remove_contact(obj, actor=actor, at=at)

    @property
    def success_message(self):
        return _("Contact removed.")


# ---- billing accounts ----------------------------------------------------------------------------


class AccountCreateView(CustomerPartForm):
    form_class = BillingAccountForm
    tab = "accounts"
    template_name = "customers/account_form.html"

    @property
    def heading(self):
        return _("New billing account of %(name)s") % {"name": self.customer.name}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "customer": self.customer}

    def perform(self, form, *, actor, at):
        return services.create_billing_account(self.customer, actor=actor, at=at,
                                               **form.account_values(editing=False))

    def get_success_message(self, result):
        return _("Billing account %(number)s opened.") % {"number": result.number}

    def get_success_url(self, result=None):
        return reverse("customers:account_detail", args=[result.pk])


class AccountEditView(PartEditForm):
    model = BillingAccount
    form_class = BillingAccountForm
    tab = "accounts"
    template_name = "customers/account_form.html"
    context_object_name = "account"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "customer": self.customer, "account": self.object}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Edit billing account %(number)s") % {"number": self.object.number}
        context["back_url"] = reverse("customers:account_detail", args=[self.object.pk])
        return context

    def perform(self, form, *, actor, at):
        values = form.account_values(editing=True)
        for name in ("billing_group", "bill_cycle"):
            if values.get(name) == getattr(self.object, name):
                values.pop(name)  # unchanged: a row closed in the catalogue since stays
        return services.update_billing_account(self.object, actor=actor, at=at, **values)

    def get_success_message(self, result):
        return _("Billing account %(number)s saved.") % {"number": result.number}

    def get_success_url(self, result=None):
        return reverse("customers:account_detail", args=[self.object.pk])


class AccountDetailView(ChildObjectMixin, ScopedDetailView):
    model = BillingAccount
    template_name = "customers/account_detail.html"
    context_object_name = "account"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        account = self.object
        context["title"] = account.name
        context["subscriptions"] = account.subscriptions.order_by("status", "id")
        context["can_change"] = BillingAccount.objects.for_user(self.request.user, "change").filter(
            pk=account.pk).exists()
        context["events"], context["more"] = history_feed(self.request.user, [account])
        return context


# ---- files ----------------------------------------------------------------------------------


class FileUploadView(CustomerPartForm):
    form_class = FileUploadForm
    tab = "files"
    service_field_map = {"content_type": "file", "name": "file"}
    submit_label = gettext_lazy("Upload")

    @property
    def heading(self):
        return _("Upload a file for %(name)s") % {"name": self.customer.name}

    def perform(self, form, *, actor, at):
        upload = form.cleaned_data["file"]
        return services.upload_customer_file(self.customer, upload, actor=actor, at=at,
                                             description=form.cleaned_data["description"])

    def get_success_message(self, result):
        return _("File %(name)s kept with the customer.") % {"name": result.name}


class FileDownloadView(ChildObjectMixin, ScopedDetailView):
    """The file's bytes as an attachment, after the same rights check as the customer's page."""

    model = CustomerFile

    def get(self, request, *args, **kwargs):
        row = self.object
        try:
            handle = open_customer_file(request.user, row)
        except (PermissionDeniedError, FileNotFoundError):
            raise Http404 from None
        response = FileResponse(handle, as_attachment=True, filename=row.name, content_type=row.content_type)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class FileDeleteView(PartRemoveView):
    model = CustomerFile
    tab = "files"

    def perform(self, obj, *, actor, at):
        services.delete_customer_file(obj, actor=actor, at=at, reason=self.request.POST.get("reason", "")[:200])

    @property
    def success_message(self):
        return _("File deleted.")
