"""Form fields shared by several screens."""

from django import forms
from django.utils.translation import gettext_lazy as _

from telora.core import rights


def permission_choices() -> list[tuple[str, str]]:
    """Every `area.action` a role or API key may hold (admin-only areas belong to superusers)."""
    return [(perm, perm) for area in rights.areas() if not area.admin_only for perm in area.permissions()]


class PermissionsField(forms.MultipleChoiceField):
    """Checkbox matrix of areas x actions; rendered by the `permission_matrix` template tag."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Permissions"))
        kwargs.setdefault("required", False)
        super().__init__(choices=permission_choices, **kwargs)
        self.is_permission_matrix = True


class BrandChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.code})"


class BrandMultipleChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.code})"


class RoleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        if obj.brand_id is None:
            return _("%(name)s (all brands)") % {"name": obj.name}
        return f"{obj.name} ({obj.brand.code})"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)
