"""The inventory's front page: stock by status, free SIM cards by type and numbers by group,
uploads running and done."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from telora.core import clock
from telora.core.models import Job
from telora.inventory.models import NumberStatus, SimStatus
from telora.inventory.selectors import import_batches_for_user, inventory_stats
from telora.inventory.views.common import STATUS_COLOURS, may
from telora.inventory.views.imports import import_jobs_for_user
from telora.ui.views.generic import AreaMixin


def _bars(counts: dict, choices, total: int) -> list[dict]:
    return [{"code": code, "label": label, "count": counts.get(code, 0), "colour": STATUS_COLOURS.get(code),
             "percent": round(100 * counts.get(code, 0) / total, 1) if total else 0} for code, label in choices]


class InventoryHomeView(AreaMixin, TemplateView):
    area = "inventory"
    title = gettext_lazy("Inventory")
    template_name = "inventory/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        brand, user = self.brand, self.request.user
        if brand is None:
            return context
        stats = inventory_stats(brand, at=clock.now())
        context.update(
            stats=stats,
            sim_bars=_bars(stats["sims"]["by_status"], SimStatus.choices, stats["sims"]["total"]),
            number_bars=_bars(stats["numbers"]["by_status"], NumberStatus.choices, stats["numbers"]["total"]),
            recent=import_batches_for_user(user).filter(brand=brand)[:6],
            running=import_jobs_for_user(user).filter(brand=brand, status__in=[Job.Status.QUEUED,
                                                                               Job.Status.RUNNING]),
            can_change=may(user, brand, "change"), can_import=may(user, brand, "import"),
        )
        return context
