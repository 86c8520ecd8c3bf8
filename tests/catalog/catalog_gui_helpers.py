"""Shared by the catalogue GUI tests: the people who use the screens and the child rows of forms
(logged-in clients and form errors: tests/gui_helpers.py)."""

VIEW = ["catalog.view"]
EDIT = ["catalog.view", "catalog.change"]
ALL = ["catalog.view", "catalog.change", "catalog.apply"]


def row_errors(response, rows: str) -> list[dict]:
    return [dict(form.errors) for form in response.context["form"].rowsets[rows].forms]


def rows(prefix: str, items: list[dict], initial: int = 0) -> dict:
    """POST data of a form's child rows (`one_time`, `bands`...): the management form and each row."""
    data = {f"{prefix}-TOTAL_FORMS": str(len(items)), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for index, item in enumerate(items):
        for key, value in item.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data
