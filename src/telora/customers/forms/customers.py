"""Forms for customers, their addresses, contacts, billing accounts and files."""

from __future__ import annotations

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from telora.catalog.models import BillCycle, BillingGroup, CustomerGroup
from telora.customers.constants import (
    ADDRESS_ROLES,
    CONTACT_ROLES,
    CUSTOMER_STATUSES,
    FILE_CONTENT_TYPES,
    ID_TYPES,
    INVOICE_DELIVERIES,
    PAYMENT_METHODS,
)
from telora.customers.forms.common import (
    CatalogueChoiceField,
    catalogue_rows,
    country_choices,
    language_choices,
    text,
)
from telora.customers.services.files import max_bytes
from telora.customers.templatetags.customers_ui import (
    ID_TYPE_LABELS,
    PAYMENT_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
)
from telora.ui.forms.fields import DateInput

KINDS = [("private", _("Private person")), ("business", _("Business"))]
DELIVERY_LABELS = {"email": _("By e-mail"), "print": _("Printed, by post")}
ANY = [("", _("Any"))]


def _choices(values, labels):
    return [(value, labels.get(value, value)) for value in values]


class CustomerFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, widget=forms.TextInput(
        attrs={"placeholder": _("Name, customer number, e-mail or phone"), "autocomplete": "off",
               "data-testid": "customer-filter-q"}))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=ANY + _choices(CUSTOMER_STATUSES, STATUS_LABELS))
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=ANY + KINDS)
    group = CatalogueChoiceField(label=_("Customer group"), queryset=CustomerGroup.objects.none(), required=False,
                                 empty_label=_("Any"))

    def __init__(self, *args, brand, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = catalogue_rows(CustomerGroup, brand)


class CustomerForm(forms.Form):
    """A customer's own fields; `CustomerCreateForm` adds the first address, contact and account."""

    kind = forms.ChoiceField(label=_("Customer is"), choices=KINDS, initial="private", widget=forms.RadioSelect)
    first_name = text(_("First name"), 100, autocomplete="off")
    last_name = text(_("Last name"), 150, autocomplete="off")
    company_name = text(_("Company name"), 200, autocomplete="off")
    parent = forms.CharField(label=_("Part of (customer number)"), max_length=32, required=False,
                             help_text=_("For business hierarchies: the number of the business customer above."))
    registration_number = text(_("Registration number"), 40)
    vat_number = text(_("VAT number"), 20, placeholder="NL004495445B01")
    id_type = forms.ChoiceField(label=_("Identity document"), required=False,
                                choices=[("", "—")] + _choices(ID_TYPES, ID_TYPE_LABELS))
    id_number = text(_("Document number"), 40, autocomplete="off")
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DateInput())
    customer_group = CatalogueChoiceField(label=_("Customer group"), queryset=CustomerGroup.objects.none(),
                                          required=False, empty_label=_("None"))
    language = forms.ChoiceField(label=_("Language"), required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = text(_("Phone"), 30, placeholder="+31 6 12345678", autocomplete="off")
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    PRIVATE = ("first_name", "last_name", "id_type", "id_number", "birth_date")
    BUSINESS = ("company_name", "parent", "registration_number", "vat_number")

    def __init__(self, *args, brand, **kwargs):
        super().__init__(*args, **kwargs)
        self.brand = brand
        self.fields["customer_group"].queryset = catalogue_rows(CustomerGroup, brand)
        self.fields["language"].choices = language_choices(brand)
        for name in self.PRIVATE:
            self.fields[name].widget.attrs["data-kind"] = "private"
        for name in self.BUSINESS:
            self.fields[name].widget.attrs["data-kind"] = "business"

    def customer_values(self) -> dict:
        """What the customers service takes; fields of the other kind are left empty."""
        data = self.cleaned_data
        names = ["first_name", "last_name", "id_type", "id_number", "birth_date", "company_name",
                 "registration_number", "vat_number", "customer_group", "language", "email", "phone", "notes"]
        values = {name: data.get(name) for name in names}
        wrong = self.BUSINESS if data["kind"] == "private" else self.PRIVATE
        for name in wrong:
            if name in values:
                values[name] = None if name == "birth_date" else ""
        if data["kind"] == "business":
            values["first_name"] = values["last_name"] = ""
        return values


class CustomerEditForm(CustomerForm):
    status = forms.ChoiceField(label=_("Status"), choices=_choices(CUSTOMER_STATUSES, STATUS_LABELS))
    status_reason = text(_("Reason for the status"), 200)

    def __init__(self, *args, customer, **kwargs):
        kwargs["initial"] = {
            "kind": customer.kind, "first_name": customer.first_name, "last_name": customer.last_name,
            "company_name": customer.company_name, "parent": customer.parent.number if customer.parent else "",
            "registration_number": customer.registration_number, "vat_number": customer.vat_number,
            "id_type": customer.id_type, "id_number": customer.id_number, "birth_date": customer.birth_date,
            "customer_group": customer.customer_group_id, "language": customer.language, "email": customer.email,
            "phone": f"+{customer.phone}" if customer.phone else "", "notes": customer.notes,
            "status": customer.status, "status_reason": customer.status_reason, **(kwargs.get("initial") or {}),
        }
        super().__init__(*args, brand=customer.brand, **kwargs)
        if customer.customer_group_id and customer.customer_group not in self.fields["customer_group"].queryset:
            # A group closed since stays on the customer; offer it so saving does not drop it.
            self.fields["customer_group"].queryset = (self.fields["customer_group"].queryset
                                                      | CustomerGroup.objects.filter(pk=customer.customer_group_id))


def address_roles_field():
    return forms.MultipleChoiceField(label=_("Used as"), required=False, widget=forms.CheckboxSelectMultiple,
                                     choices=_choices(ADDRESS_ROLES, ROLE_LABELS))


class CustomerCreateForm(CustomerForm):
    """A new customer with a first address, optionally a contact person and a billing account."""

    street1 = text(_("Street and number"), 200, required=True)
    street2 = text(_("Address line 2"), 200)
    postcode = text(_("Postcode"), 20, required=True)
    city = text(_("City"), 100, required=True)
    country = forms.ChoiceField(label=_("Country"))
    address_roles = address_roles_field()
    contact_role = forms.ChoiceField(label=_("Contact role"), choices=_choices(CONTACT_ROLES, ROLE_LABELS),
                                     initial="primary")
    contact_first_name = text(_("Contact first name"), 100)
    contact_last_name = text(_("Contact last name"), 150)
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)
    contact_phone = text(_("Contact phone"), 30)
    open_account = forms.BooleanField(label=_("Open a billing account"), required=False, initial=True,
                                      help_text=_("Invoices go to the customer's e-mail (or by post). Change the "
                                                  "details on the account later."))
    billing_group = CatalogueChoiceField(label=_("Billing group"), queryset=BillingGroup.objects.none(),
                                         required=False, empty_label=_("None"))
    invoice_delivery = forms.ChoiceField(label=_("Invoice delivery"), initial="email", widget=forms.RadioSelect,
                                         choices=_choices(INVOICE_DELIVERIES, DELIVERY_LABELS))

    def __init__(self, *args, brand, **kwargs):
        kwargs["initial"] = {"country": brand.country if brand else "",
                             "address_roles": list(ADDRESS_ROLES), **(kwargs.get("initial") or {})}
        super().__init__(*args, brand=brand, **kwargs)
        self.fields["country"].choices = country_choices()
        self.fields["billing_group"].queryset = catalogue_rows(BillingGroup, brand)

    def clean(self):
        data = super().clean()
        contact = [data.get(n) for n in ("contact_first_name", "contact_email", "contact_phone")]
        if any(contact) and not data.get("contact_last_name"):
            self.add_error("contact_last_name", _("Give the contact's last name (or leave the contact empty)."))
        return data


class AddressForm(forms.Form):
    roles = address_roles_field()
    street1 = text(_("Street and number"), 200, required=True)
    street2 = text(_("Address line 2"), 200)
    postcode = text(_("Postcode"), 20, required=True)
    city = text(_("City"), 100, required=True)
    state = text(_("State or province"), 100)
    country = forms.ChoiceField(label=_("Country"))

    def __init__(self, *args, brand, address=None, **kwargs):
        if address is not None:
            kwargs["initial"] = {name: getattr(address, name) for name in
                                 ("street1", "street2", "postcode", "city", "state", "country")}
            kwargs["initial"]["roles"] = list(address.roles)
        else:
            kwargs["initial"] = {"country": brand.country, "roles": ["legal"], **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = country_choices()


class ContactForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=_choices(CONTACT_ROLES, ROLE_LABELS), initial="primary")
    first_name = text(_("First name"), 100)
    last_name = text(_("Last name"), 150, required=True)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = text(_("Phone"), 30, placeholder="+31 6 12345678")

    def __init__(self, *args, contact=None, **kwargs):
        if contact is not None:
            kwargs["initial"] = {"role": contact.role, "first_name": contact.first_name,
                                 "last_name": contact.last_name, "email": contact.email,
                                 "phone": f"+{contact.phone}" if contact.phone else ""}
        super().__init__(*args, **kwargs)


class BillingAccountForm(forms.Form):
    name = text(_("Account name"), 200)
    billing_group = CatalogueChoiceField(label=_("Billing group"), queryset=BillingGroup.objects.none(),
                                         required=False, empty_label=_("None"))
    bill_cycle = CatalogueChoiceField(label=_("Bill cycle"), queryset=BillCycle.objects.none(), required=False,
                                      empty_label=_("The billing group's, or the brand's first"))
    invoice_delivery = forms.ChoiceField(label=_("Invoice delivery"), widget=forms.RadioSelect, initial="email",
                                         choices=_choices(INVOICE_DELIVERIES, DELIVERY_LABELS))
    invoice_email = forms.EmailField(label=_("Invoice e-mail"), required=False,
                                     help_text=_("Empty: the customer's e-mail address."))
    billing_address = forms.ChoiceField(label=_("Billing address"), required=False)
    credit_limit = forms.DecimalField(label=_("Credit limit"), min_value=0, max_digits=18, decimal_places=6,
                                      initial=0)
    payment_method = forms.ChoiceField(label=_("Payment method"), choices=_choices(PAYMENT_METHODS, PAYMENT_LABELS))
    payment_method_ref = text(_("Payment reference"), 100, autocomplete="off",
                              placeholder=_("Mandate id or payment provider token"))
    status = forms.ChoiceField(label=_("Status"), choices=[("active", _("Active")), ("closed", _("Closed"))])

    def __init__(self, *args, customer, account=None, **kwargs):
        brand = customer.brand
        if account is not None:
            kwargs["initial"] = {
                "name": account.name, "billing_group": account.billing_group_id, "bill_cycle": account.bill_cycle_id,
                "invoice_delivery": account.invoice_delivery, "invoice_email": account.invoice_email,
                "billing_address": account.billing_address_id or "", "credit_limit": format(account.credit_limit.normalize(), "f"),
                "payment_method": account.payment_method, "payment_method_ref": account.payment_method_ref,
                "status": account.status,
            }
        super().__init__(*args, **kwargs)
        self.fields["billing_group"].queryset = catalogue_rows(BillingGroup, brand)
        self.fields["bill_cycle"].queryset = catalogue_rows(BillCycle, brand)
        self.fields["credit_limit"].help_text = _("In %(currency)s; 0 means no credit.") % {"currency": brand.currency}
        self.fields["payment_method_ref"].help_text = _("Never a card number: card numbers are refused.")
        addresses = [(a.pk, str(a)) for a in customer.addresses.order_by("id")]
        self.fields["billing_address"].choices = [("", _("The customer's billing or legal address"))] + addresses
        if account is None:
            del self.fields["status"]
        for field, current in (("billing_group", getattr(account, "billing_group", None)),
                               ("bill_cycle", getattr(account, "bill_cycle", None))):
            if current is not None and current not in self.fields[field].queryset:
                self.fields[field].queryset |= type(current).objects.filter(pk=current.pk)

    def account_values(self, *, editing: bool) -> dict:
        data = dict(self.cleaned_data)
        data["billing_address"] = int(data["billing_address"]) if data.get("billing_address") else None
        if not editing:
            data.pop("status", None)
        if data.get("bill_cycle") is None and not editing:
            data.pop("bill_cycle")
        return data


class FileUploadForm(forms.Form):
    file = forms.FileField(label=_("File"))
    description = text(_("Description"), 300, placeholder=_("ID scan, signed contract…"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ",".join(FILE_CONTENT_TYPES)
        self.fields["file"].help_text = _("%(types)s; at most %(size)s.") % {
            "types": ", ".join(sorted(set(FILE_CONTENT_TYPES.values()))), "size": filesizeformat(max_bytes())}
