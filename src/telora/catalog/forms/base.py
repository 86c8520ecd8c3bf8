"""What every catalogue form shares: thin fields that leave checking to the catalogue's schema,
rows of child items (bands, allowances, one-time charges...) and putting the schema's errors
back on the field or row they name.

A catalogue form does not validate on its own. It turns what people typed into the YAML-shaped
data a file would hold (`to_item`) and the single-entity service checks it with the same code
and in the same words as `telora config apply`. The schema's error paths (`one_time[1].price`,
`prefixes[0]`, `rules.at_most[0].of`) are routed back to the form field or row they name.
"""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from telora.ui.forms.fields import DateInput

PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
SEPARATORS = re.compile(r"[\s,;]+")
WHOLE = re.compile(r"[+-]?[0-9]+")


def split_path(path: str) -> list:
    """'rules.at_most[0].of' -> ['rules', 'at_most', 0, 'of']."""
    return [int(index) if index else name for name, index in PATH_PART.findall(path or "")]


class SchemaField:
    """Leaves the verdict to the schema: no "required" or "valid choice" check of Django's own,
    so an empty or unknown value gets the message the YAML path gives."""

    def validate(self, value):
        pass


class TextField(SchemaField, forms.CharField):
    """Text as typed (stripped); empty is None, i.e. left out of the YAML."""

    def __init__(self, **kwargs):
        kwargs.setdefault("empty_value", None)
        super().__init__(**kwargs)


class CodeField(TextField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Code"))
        kwargs.setdefault("help_text", _("Letters, digits, '_', '.', '-'; at most 40. It cannot change later."))
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "off", "class": "font-monospace"}))
        super().__init__(**kwargs)


class AmountField(TextField):
    """An exact decimal kept as text ("149.00"): the schema checks it, as it checks a quoted YAML amount."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off",
                                                           "class": "text-end font-monospace"}))
        super().__init__(**kwargs)


class WholeField(TextField):
    """A whole number; anything else goes to the schema as text, which says what it expected."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return int(value) if isinstance(value, str) and WHOLE.fullmatch(value) else value

    def prepare_value(self, value):
        return "" if value is None else value


class CodeChoiceField(SchemaField, forms.ChoiceField):
    """One code out of a list (a reference such as the rate plan); blank is None."""

    def to_python(self, value):
        value = super().to_python(value)
        return value or None


class CodesField(SchemaField, forms.MultipleChoiceField):
    """Several codes as check boxes (bundles, zones, products)."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class ListTextField(TextField):
    """A list typed as text, separated by commas or spaces ("45, 4530")."""

    widget = forms.Textarea(attrs={"rows": 2, "class": "font-monospace"})

    def to_python(self, value):
        value = super().to_python(value)
        return [item for item in SEPARATORS.split(value) if item] if value else []

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(item) for item in value)
        return value


class EffectiveFromField(forms.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Effective from"))
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", DateInput())
        kwargs.setdefault("help_text", _("The change holds from this date; what held before stays as it was. "
                                         "Empty: today in the brand's timezone."))
        super().__init__(**kwargs)


def put(item: dict, key: str, value) -> None:
    """Set `key` unless the value is empty (None): left out, as a file would leave it out."""
    if value is not None:
        item[key] = value


class RowForm(forms.Form):
    """One child row (a band, an allowance...). `yaml_names` maps YAML keys to its fields."""

    yaml_names: dict[str, str] = {}

    def __init__(self, *args, choices: dict | None = None, **kwargs):
        self.choices = choices or {}
        super().__init__(*args, **kwargs)
        self.setup_choices()

    def setup_choices(self) -> None:
        """Fill select lists from `self.choices`."""

    def to_row(self) -> dict:
        """Each row form turns its fields into the YAML row the schema checks."""
        raise NotImplementedError

    @classmethod
    def initial_from(cls, row: dict) -> dict:
        return {cls.yaml_names.get(key, key): value for key, value in row.items()}


class RowFormSet(forms.BaseFormSet):
    """Rows of a catalogue form; blank extra rows and rows marked for removal are left out."""

    title = ""
    help_text = ""

    def kept_forms(self) -> list:
        kept = []
        for index, form in enumerate(self.forms):
            if self.can_delete and self._should_delete_form(form):
                continue
            if index >= self.initial_form_count() and not form.has_changed():
                continue
            kept.append(form)
        return kept


def row_formset(form_class, *, extra: int = 2):
    return forms.formset_factory(form_class, formset=RowFormSet, extra=extra, can_delete=True)


class CatalogForm(forms.Form):
    """A catalogue entity as a form. Subclasses set `section`, declare fields named as the YAML
    keys (or map them in `yaml_names`), list child rows in `rows` and write `to_item`."""

    section = ""
    rows: dict[str, type] = {}  # YAML list key -> formset class
    yaml_names: dict[str, str] = {}  # YAML key -> form field, where they differ
    code_lists: tuple[str, ...] = ()  # fields holding lists: `field[3]` errors land on the field

    effective_from = EffectiveFromField()

    def __init__(self, data=None, files=None, *, brand, choices: dict | None = None, item: dict | None = None,
                 editing: bool = False, **kwargs):
        self.brand = brand
        self.editing = editing
        self.choices = choices or {}
        item = self.prepare_item(dict(item)) if item is not None else None
        if item is not None:
            kwargs.setdefault("initial", {}).update(self.initial_from(item))
        super().__init__(data, files, **kwargs)
        if "code" in self.fields and editing:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _("The code names the entity in files and cannot change.")
        self.setup_choices()
        self.rowsets = {}
        for name, formset_class in self.rows.items():
            initial = [formset_class.form.initial_from(row) for row in (item or {}).get(name, [])]
            rowset = formset_class(data, prefix=name, initial=initial or None,
                                   form_kwargs={"choices": self.choices})
            self.rowsets[name] = rowset
        self._kept: dict[str, list] = {}

    def setup_choices(self) -> None:
        """Fill select lists from `self.choices` (codes of the brand's catalogue)."""

    @property
    def rowset_list(self) -> list[tuple[str, RowFormSet]]:
        """(name, rowset) pairs for templates (`rowsets.items` would find a rowset named "items")."""
        return list(self.rowsets.items())

    def prepare_item(self, item: dict) -> dict:
        """Hook: reshape a YAML item before it fills the form (e.g. lift nested rows)."""
        return item

    def initial_from(self, item: dict) -> dict:
        return {self.yaml_names.get(key, key): value for key, value in item.items() if key not in self.rows}

    # ---- validity and data ------------------------------------------------------------

    def is_valid(self) -> bool:
        valid = super().is_valid()
        return all([rowset.is_valid() for rowset in self.rowsets.values()]) and valid

    def row_items(self, name: str) -> list[dict]:
        """The kept rows of `name` as YAML items, remembering which form made which item."""
        kept = self.rowsets[name].kept_forms()
        self._kept[name] = kept
        return [form.to_row() for form in kept]

    def value(self, name: str):
        return self.cleaned_data.get(self.yaml_names.get(name, name))

    def to_item(self) -> dict:
        """Each entity form turns its fields into the YAML item the single-entity service takes."""
        raise NotImplementedError

    def owned_keys(self) -> set[str]:
        """The YAML keys this form sets (an edit replaces them and keeps the entity's others)."""
        names = {field: key for key, field in self.yaml_names.items()}
        return {names.get(name, name) for name in self.fields if name != "effective_from"} | set(self.rows)

    # ---- the schema's errors back on the form -----------------------------------------

    def route_path(self, parts: list) -> list:
        """Hook: reshape an error path before routing (e.g. drop a grouping key)."""
        return parts

    def add_schema_errors(self, errors: list[tuple[str, str]]) -> None:
        for path, message in errors:
            self.add_schema_error(path, message)

    def add_schema_error(self, path: str, message: str) -> None:
        parts = self.route_path(split_path(path))
        if not parts:
            self.add_error(None, message)
            return
        head = parts[0]
        if head in self.rowsets and len(parts) >= 2 and isinstance(parts[1], int):
            kept = self._kept.get(head, [])
            if parts[1] < len(kept):
                row = kept[parts[1]]
                key = parts[2] if len(parts) > 2 and isinstance(parts[2], str) else None
                name = row.yaml_names.get(key, key)
                row.add_error(name if name in row.fields else None, message)
                return
        field = self.yaml_names.get(head, head)
        in_list = len(parts) == 2 and isinstance(parts[1], int) and field in self.code_lists
        if field in self.fields and (len(parts) == 1 or in_list):
            self.add_error(field, message)
            return
        if head in self.rowsets and len(parts) == 1:
            self.rowsets[head].schema_errors = [*getattr(self.rowsets[head], "schema_errors", []), message]
            return
        self.add_error(None, f"{path}: {message}")  # another entity's path: the whole line says where


class CloseForm(forms.Form):
    effective_from = EffectiveFromField(label=_("Closed from"), help_text=_(
        "From this date the entity and its prices or rates no longer hold. Empty: today."))
