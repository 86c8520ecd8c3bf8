"""Rating jobs: the batches of the active brand, pending ones first (with the state of their
Procrastinate job and a progress bar per file), then the latest done; refreshed by HTMX while
anything is pending."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from telora.rating.jobs import TASK
from telora.rating.models import RatingBatch, UsageFile
from telora.rating.views.common import AREA, BATCH_COLOURS, JOB_COLOURS, POLL_SECONDS
from telora.rating.views.files import file_row
from telora.ui.views.generic import AreaMixin, is_htmx

PENDING_SHOWN = 500
DONE_SHOWN = 50
LIVE_JOB_STATES = ("todo", "doing", "failed", "aborted")


def job_states(batch_ids: list[int]) -> dict[int, str]:
    """The status of each batch's Procrastinate job (todo, doing, failed...), the latest job per batch."""
    if not batch_ids:
        return {}
    from procrastinate.contrib.django.models import ProcrastinateJob

    states: dict[int, str] = {}
    # A pending batch's job waits, runs or failed; narrowing by status keeps the (large) history of
    # succeeded jobs out of the scan.
    rows = (ProcrastinateJob.objects.filter(task_name=TASK, status__in=LIVE_JOB_STATES, args__batch_id__in=batch_ids)
            .order_by("id").values_list("args", "status"))
    for args, status in rows:
        states[args.get("batch_id")] = status
    return states


class BatchListView(AreaMixin, TemplateView):
    area = AREA
    title = gettext_lazy("Rating jobs")
    template_name = "rating/batches/list.html"

    def get_template_names(self):
        return ["rating/batches/_content.html"] if is_htmx(self.request) else [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        batches = RatingBatch.objects.for_user(self.request.user).filter(brand=self.brand).defer("payload")
        pending = list(batches.filter(status="pending").select_related("file").order_by("id")[:PENDING_SHOWN])
        done = list(batches.filter(status="done").select_related("file").order_by("-done_at", "-id")[:DONE_SHOWN])
        states = job_states([b.pk for b in pending])
        file_ids = sorted({b.file_id for b in pending})
        files = UsageFile.objects.for_user(self.request.user).filter(pk__in=file_ids).order_by("id")
        context.update(
            pending=[{"batch": b, "job": states.get(b.pk), "job_colour": JOB_COLOURS.get(states.get(b.pk), "secondary")}
                     for b in pending],
            pending_total=batches.filter(status="pending").count(),
            done=done, files=[file_row(f) for f in files], batch_colours=BATCH_COLOURS,
            poll_seconds=POLL_SECONDS, polling=bool(pending),
        )
        return context
