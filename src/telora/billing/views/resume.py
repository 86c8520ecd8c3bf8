"""Resuming a failed or stopped bill run from its page (the Resume button): the right that starts
the run's kind (billing.approve for production, billing.change for test), then a new job."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext_lazy

from telora.billing.models import BillRun
from telora.billing.services.resume import resume_run
from telora.billing.views.common import AREA, may
from telora.ui.views.generic import ServiceActionView


class RunResumeView(ServiceActionView):
    """POST: queue a new job for the run; a done or still-running run is refused with the reason."""

    model = BillRun
    area = AREA
    success_message = gettext_lazy("The run was resumed: it bills the accounts it had not billed yet.")

    def check_rights(self) -> None:
        super().check_rights()  # 404 for a run out of reach
        if not may(self.request.user, self.object, "approve" if self.object.kind == "production" else "change"):
            raise PermissionDenied

    def perform(self, obj, *, actor, at):
        resume_run(obj, actor=actor, at=at)

    def get_success_url(self) -> str:
        return reverse("billing:run_detail", args=[self.object.pk])
