"""What the inventory screens share: the active brand's rows, rights on one row, status colours."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect

from telora.core import clock, rights
from telora.core.services import ServiceError
from telora.inventory.models import is_free
from telora.ui.views.generic import ScopedObjectMixin, ServiceFormView, attach_service_error

STATUS_COLOURS = {"available": "green", "reserved": "yellow", "allocated": "blue", "blocked": "red",
                  "retired": "secondary", "quarantined": "orange"}


def may(user, row, action: str) -> bool:
    """Whether `user` holds inventory.<action> in the brand of `row` (or in `row`, a brand), to
    offer buttons; the service stays the judge."""
    brand_id = getattr(row, "brand_id", None) or row.pk
    return rights.has_perm(user, brand_id, f"inventory.{action}")


def status_of(item) -> dict:
    """The status people should see: a reservation or quarantine that ran out is already free."""
    ran_out = item.status in ("reserved", "quarantined") and is_free(item, clock.now())
    status = "available" if ran_out else item.status
    return {"code": status, "colour": STATUS_COLOURS.get(status, "secondary"), "ran_out": ran_out,
            "stored": item.status}


class RowFormView(ScopedObjectMixin, ServiceFormView):
    """A small form acting on one SIM card or number (reserve, block with a reason...)."""

    area = "inventory"
    required_action = "change"
    verb = ""

    def form_valid(self, form):
        try:
            self.perform(form, actor=self.actor(), at=clock.now())
        except ServiceError as exc:
            attach_service_error(form, exc)
            messages.error(self.request, exc.message)
            return HttpResponseRedirect(self.get_success_url())
        messages.success(self.request, self.get_success_message(self.object))
        return HttpResponseRedirect(self.get_success_url())

    def form_invalid(self, form):
        for errors in form.errors.values():
            for error in errors:
                messages.error(self.request, error)
        return HttpResponseRedirect(self.get_success_url())

    def get(self, request, *args, **kwargs):
        return HttpResponseRedirect(self.get_success_url())
