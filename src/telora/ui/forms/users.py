"""Forms of the users area: users, grants, roles, API keys."""

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from telora.core import rights
from telora.core.middleware import available_brands
from telora.core.models import Brand, User
from telora.core.selectors import roles_for_user
from telora.ui.forms.fields import (
    BrandChoiceField,
    BrandMultipleChoiceField,
    DateInput,
    PermissionsField,
    RoleChoiceField,
)

ACTIVE_CHOICES = [("", _("Active and inactive")), ("yes", _("Active")), ("no", _("Inactive"))]


def brands_where(user, *perms: str):
    """Active brands where `user` holds every one of `perms` (every brand for system administrators)."""
    brands = Brand.objects.filter(is_active=True)
    for perm in perms:
        brand_ids = rights.brands_with(user, perm)
        if brand_ids is not rights.ALL:
            brands = brands.filter(pk__in=brand_ids)
    return brands


def language_choices():
    return [("", _("Browser default"))] + [(code, name) for code, name in settings.LANGUAGES]


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False,
                        widget=forms.TextInput(attrs={"placeholder": _("User name, name or e-mail")}))
    brand = BrandChoiceField(label=_("Brand"), queryset=Brand.objects.none(), required=False,
                             empty_label=_("All brands"))
    active = forms.ChoiceField(label=_("Status"), choices=ACTIVE_CHOICES, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = brands_where(user, "users.view")


class UserCreateForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))
    password_again = forms.CharField(label=_("Password again"), strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))
    brand = BrandChoiceField(label=_("Brand"), queryset=Brand.objects.none(), required=False)
    role = RoleChoiceField(label=_("Role"), queryset=None, required=False,
                           help_text=_("The role the user holds in that brand; add more on the user's page."))
    is_superuser = forms.BooleanField(label=_("System administrator"), required=False,
                                      help_text=_("Every right in every brand, brands and platform roles."))

    def __init__(self, *args, actor_user, initial_brand=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = brands_where(actor_user, "users.change", "users.grant")
        self.fields["role"].queryset = roles_for_user(actor_user).select_related("brand")
        if initial_brand is not None:
            self.fields["brand"].initial = initial_brand.pk
        if not rights.is_system_admin(actor_user):
            del self.fields["is_superuser"]

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password_again") and data["password"] != data["password_again"]:
            self.add_error("password_again", _("The two passwords differ."))
        if not data.get("is_superuser"):
            if not data.get("brand"):
                self.add_error("brand", _("Choose the brand the user works in."))
            if not data.get("role"):
                self.add_error("role", _("Choose the user's role in that brand."))
        return data


class UserEditForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    language = forms.ChoiceField(label=_("Language"), choices=language_choices, required=False)
    default_brand = BrandChoiceField(label=_("Default brand"), queryset=Brand.objects.none(), required=False,
                                     empty_label=_("First brand held"),
                                     help_text=_("The brand the user starts in after logging in."))
    is_active = forms.BooleanField(label=_("Active"), required=False,
                                   help_text=_("Inactive users cannot log in or use their API keys."))
    is_superuser = forms.BooleanField(label=_("System administrator"), required=False)

    def __init__(self, *args, actor_user, user: User, **kwargs):
        current = {
            "first_name": user.first_name, "last_name": user.last_name, "email": user.email,
            "language": user.language, "default_brand": user.default_brand_id,
            "is_active": user.is_active, "is_superuser": user.is_superuser,
        }
        kwargs["initial"] = {**current, **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        held = Brand.objects.filter(grants__user=user).distinct()
        self.fields["default_brand"].queryset = Brand.objects.all() if user.is_superuser else held
        if not rights.is_system_admin(actor_user):
            del self.fields["is_superuser"]


class GrantForm(forms.Form):
    brand = BrandChoiceField(label=_("Brand"), queryset=Brand.objects.none())
    role = RoleChoiceField(label=_("Role"), queryset=None)

    def __init__(self, *args, actor_user, initial_brand=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = brands_where(actor_user, "users.grant")
        self.fields["role"].queryset = roles_for_user(actor_user).select_related("brand")
        if initial_brand is not None:
            self.fields["brand"].initial = initial_brand.pk


class SetPasswordForm(forms.Form):
    new_password = forms.CharField(label=_("New password"), strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))
    new_password_again = forms.CharField(label=_("New password again"), strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password_again") \
                and data["new_password"] != data["new_password_again"]:
            self.add_error("new_password_again", _("The two passwords differ."))
        return data


class RoleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    brand = BrandChoiceField(label=_("Brand"), queryset=Brand.objects.none(), required=False,
                             empty_label=_("All brands (platform role)"),
                             help_text=_("A role of one brand is handed out in that brand only."))
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    permissions = PermissionsField()

    def __init__(self, *args, actor_user, role=None, **kwargs):
        if role is not None:
            current = {"name": role.name, "description": role.description, "permissions": list(role.permissions)}
            kwargs["initial"] = {**current, **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        if role is not None:
            del self.fields["brand"]  # a role stays in its brand: its grants depend on it
        else:
            self.fields["brand"].queryset = brands_where(actor_user, "users.change")
            if not rights.is_system_admin(actor_user):
                self.fields["brand"].required = True
                self.fields["brand"].empty_label = None


class ApiKeyForm(forms.Form):
    user = forms.ModelChoiceField(label=_("For user"), queryset=User.objects.none())
    name = forms.CharField(label=_("Name"), max_length=80,
                           help_text=_("What the key is for, e.g. the system that uses it."))
    brands = BrandMultipleChoiceField(label=_("Brands"), queryset=Brand.objects.none())
    permissions = PermissionsField(help_text=_("The key never holds more than its user holds in a brand."))
    expires_at = forms.DateField(label=_("Expires on"), required=False, widget=DateInput(),
                                 help_text=_("Leave empty for a key that does not expire."))

    def __init__(self, *args, actor_user, **kwargs):
        super().__init__(*args, **kwargs)
        managed = User.objects.for_user(actor_user, "change").values("pk")
        self.fields["user"].queryset = User.objects.filter(
            Q(pk__in=managed, is_active=True) | Q(pk=actor_user.pk)).order_by("username")
        self.fields["user"].initial = actor_user.pk
        # The service narrows further: the key's user must hold a role in each brand chosen.
        self.fields["brands"].queryset = available_brands(actor_user)
