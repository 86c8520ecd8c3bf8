"""Users: list, page, create, edit, grants and passwords of the users one manages."""

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from telora.core import rights
from telora.core.models import ApiKey, User
from telora.core.selectors import grants_for_user
from telora.core.services import users as user_services
from telora.ui.forms.users import GrantForm, SetPasswordForm, UserCreateForm, UserEditForm, UserFilterForm
from telora.ui.search import words_match
from telora.ui.views.generic import (
    AreaMixin,
    ScopedDetailView,
    ScopedListView,
    ScopedObjectMixin,
    ServiceActionView,
    ServiceFormView,
)


def can_manage(viewer, user: User) -> bool:
    """Mirrors the service's rule (users.change in every brand the user holds) to offer buttons;
    the service stays the judge when the button is pressed."""
    if rights.is_system_admin(viewer):
        return True
    if user.is_superuser:
        return False
    brand_ids = set(user.grants.values_list("brand_id", flat=True))
    return bool(brand_ids) and all(rights.has_perm(viewer, b, "users.change") for b in brand_ids)


def visible_grants(viewer):
    return grants_for_user(viewer).select_related("brand", "role").order_by("brand__code", "role__name")


class UserListView(ScopedListView):
    model = User
    area = "users"
    title = _("Users")
    template_name = "ui/users/list.html"
    results_template_name = "ui/users/_table.html"
    filter_form_class = UserFilterForm

    def get_filter_form_kwargs(self):
        return {"user": self.request.user}

    def get_base_queryset(self):
        return (User.objects.for_user(self.request.user)
                .prefetch_related(Prefetch("grants", queryset=visible_grants(self.request.user),
                                           to_attr="visible_grants"))
                .order_by("username"))

    def filter_queryset(self, queryset, data):
        if data.get("q"):
            queryset = queryset.filter(words_match(data["q"], ["username", "first_name", "last_name", "email"]))
        if data.get("brand"):
            queryset = queryset.filter(grants__brand=data["brand"]).distinct()
        if data.get("active") == "yes":
            queryset = queryset.filter(is_active=True)
        elif data.get("active") == "no":
            queryset = queryset.filter(is_active=False)
        return queryset


class UserDetailView(ScopedDetailView):
    model = User
    area = "users"
    template_name = "ui/users/detail.html"
    context_object_name = "shown_user"  # "user" is the person logged in

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        viewer, shown = self.request.user, self.object
        context["title"] = shown.get_full_name() or shown.username
        context["grants"] = visible_grants(viewer).filter(user=shown)
        context["api_keys"] = ApiKey.objects.for_user(viewer).filter(user=shown).prefetch_related("brands")
        context["can_manage"] = can_manage(viewer, shown)
        context["can_grant"] = bool(rights.brands_with(viewer, "users.grant"))
        if context["can_grant"]:
            context["grant_form"] = GrantForm(actor_user=viewer, initial_brand=self.brand)
        return context


class UserCreateView(AreaMixin, ServiceFormView):
    area = "users"
    action = "change"
    title = _("New user")
    template_name = "ui/users/form.html"
    form_class = UserCreateForm
    service_field_map = {"grants": "role"}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor_user": self.request.user, "initial_brand": self.brand}

    def perform(self, form, *, actor, at):
        data = form.cleaned_data
        grants = [(data["brand"], data["role"])] if data.get("brand") and data.get("role") else []
        return user_services.create_user(
            actor=actor, at=at, username=data["username"], password=data["password"], email=data["email"],
            first_name=data["first_name"], last_name=data["last_name"],
            is_superuser=data.get("is_superuser", False), grants=grants,
        )

    def get_success_message(self, result):
        return _("User %(username)s created.") % {"username": result.username}

    def get_success_url(self, result=None):
        return reverse("ui:user_detail", args=[result.pk])


class UserEditView(ScopedObjectMixin, ServiceFormView):
    model = User
    area = "users"
    required_action = "change"
    template_name = "ui/users/form.html"
    form_class = UserEditForm
    context_object_name = "shown_user"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor_user": self.request.user, "user": self.object}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Edit %(username)s") % {"username": self.object.username}
        return context

    def perform(self, form, *, actor, at):
        return user_services.update_user(self.object, actor=actor, at=at, **form.cleaned_data)

    def get_success_message(self, result):
        return _("User %(username)s saved.") % {"username": result.username}

    def get_success_url(self, result=None):
        return reverse("ui:user_detail", args=[self.object.pk])


class UserSetPasswordView(ScopedObjectMixin, ServiceFormView):
    """An administrator sets a managed user's password (one's own goes through password change)."""

    model = User
    area = "users"
    required_action = "change"
    template_name = "ui/users/set_password.html"
    form_class = SetPasswordForm
    context_object_name = "shown_user"
    service_field_map = {"password": "new_password"}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Set password of %(username)s") % {"username": self.object.username}
        return context

    def perform(self, form, *, actor, at):
        user_services.set_password(self.object, form.cleaned_data["new_password"], actor=actor, at=at)
        return self.object

    def get_success_message(self, result):
        return _("Password of %(username)s set.") % {"username": result.username}

    def get_success_url(self, result=None):
        return reverse("ui:user_detail", args=[self.object.pk])


class GrantAddView(ScopedObjectMixin, ServiceFormView):
    model = User
    area = "users"
    template_name = "ui/users/grant_form.html"
    form_class = GrantForm
    context_object_name = "shown_user"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor_user": self.request.user, "initial_brand": self.brand}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Give %(username)s a role") % {"username": self.object.username}
        return context

    def perform(self, form, *, actor, at):
        return user_services.grant_role(self.object, form.cleaned_data["brand"], form.cleaned_data["role"],
                                        actor=actor, at=at)

    def get_success_message(self, result):
        return _("%(username)s now holds %(role)s in %(brand)s.") % {
            "username": self.object.username, "role": result.role.name, "brand": result.brand.name}

    def get_success_url(self, result=None):
        return reverse("ui:user_detail", args=[self.object.pk])


class GrantRemoveView(ServiceActionView):
    area = "users"
    success_message = _("Role removed.")

    def scoped_queryset(self, action):
        users = User.objects.for_user(self.request.user, action).values("pk")
        return grants_for_user(self.request.user, action).filter(user__in=users).select_related("brand", "role")

    def perform(self, obj, *, actor, at):
        user_services.revoke_grant(obj, actor=actor, at=at)

    def get_success_url(self):
        return reverse("ui:user_detail", args=[self.object.user_id])
