"""Roles: named sets of permissions, edited as a matrix of areas x actions."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from telora.core import rights
from telora.core.models import Role, User
from telora.core.selectors import grants_for_user, roles_for_user
from telora.core.services import users as user_services
from telora.ui.forms.users import RoleForm
from telora.ui.views.generic import (
    AreaMixin,
    ScopedDetailView,
    ScopedListView,
    ScopedObjectMixin,
    ServiceFormView,
)


class RoleScopeMixin:
    """Roles have no `for_user` manager (platform roles have no brand); the core selector decides."""

    model = Role

    def scoped_queryset(self, action):
        return roles_for_user(self.request.user, action).select_related("brand")


class RoleListView(ScopedListView):
    model = Role
    area = "users"
    title = _("Roles")
    template_name = "ui/roles/list.html"

    def get_base_queryset(self):
        return roles_for_user(self.request.user).select_related("brand").order_by("brand__code", "name")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_change"] = bool(rights.brands_with(self.request.user, "users.change"))
        return context


class RoleDetailView(RoleScopeMixin, ScopedDetailView):
    area = "users"
    template_name = "ui/roles/detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        viewer = self.request.user
        context["title"] = self.object.name
        held = set(self.object.permissions)
        context["matrix"] = [
            {"area": area, "actions": [(action, f"{area.code}.{action}" in held) for action in area.actions]}
            for area in rights.areas() if not area.admin_only
        ]
        context["holders"] = (grants_for_user(viewer).filter(role=self.object,
                                                             user__in=User.objects.for_user(viewer).values("pk"))
                              .select_related("user", "brand").order_by("brand__code", "user__username"))
        context["can_change"] = roles_for_user(viewer, "change").filter(pk=self.object.pk).exists()
        return context


class RoleCreateView(AreaMixin, ServiceFormView):
    area = "users"
    action = "change"
    title = _("New role")
    template_name = "ui/roles/form.html"
    form_class = RoleForm

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "actor_user": self.request.user}
        if self.request.method == "GET" and self.brand is not None:
            kwargs.setdefault("initial", {})["brand"] = self.brand.pk
        return kwargs

    def perform(self, form, *, actor, at):
        data = form.cleaned_data
        return user_services.create_role(actor=actor, at=at, name=data["name"], brand=data.get("brand"),
                                         description=data["description"], permissions=data["permissions"])

    def get_success_message(self, result):
        return _("Role %(name)s created.") % {"name": result.name}

    def get_success_url(self, result=None):
        return reverse("ui:role_detail", args=[result.pk])


class RoleEditView(RoleScopeMixin, ScopedObjectMixin, ServiceFormView):
    area = "users"
    required_action = "change"
    template_name = "ui/roles/form.html"
    form_class = RoleForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "actor_user": self.request.user, "role": self.object}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = _("Edit role %(name)s") % {"name": self.object.name}
        return context

    def perform(self, form, *, actor, at):
        data = form.cleaned_data
        return user_services.update_role(self.object, actor=actor, at=at, name=data["name"],
                                         description=data["description"], permissions=data["permissions"])

    def get_success_message(self, result):
        return _("Role %(name)s saved.") % {"name": result.name}

    def get_success_url(self, result=None):
        return reverse("ui:role_detail", args=[self.object.pk])
