"""The catalogue's front page: every section with its count, sharing, and the latest changes."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from telora.catalog import models as m
from telora.catalog.views.common import live, owners
from telora.catalog.views.sections import Nav, grouped
from telora.core import clock
from telora.core.models import AuditEvent, Brand
from telora.ui.views.generic import AreaMixin, area_allowed

RECENT = 12


class CatalogHomeView(AreaMixin, TemplateView):
    area = "catalog"
    title = gettext_lazy("Catalogue")
    template_name = "catalog/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        brand, user = self.brand, self.request.user
        day = clock.today(brand) if brand else clock.today()
        brand_ids = owners(brand)
        groups = []
        for group, sections in grouped():
            cards = []
            for section in sections:
                rows = section.model.objects.for_user(user).filter(brand_id__in=brand_ids)
                current = rows.at(day).count()
                cards.append({"section": section, "current": current, "later": live(rows, day).count() - current})
            groups.append((group, cards))
        context.update(
            nav=Nav(current=""), day=day, groups=groups,
            can_change=area_allowed(user, brand, "catalog", "change"),
            shared_with=Brand.objects.filter(pk__in=m.CatalogShare.objects.filter(brand=brand).values(
                "shared_with_id")).order_by("code") if brand else [],
            shared_from=Brand.objects.filter(pk__in=[b for b in brand_ids if brand and b != brand.pk]).order_by("code"),
        )
        if brand is not None:
            context["recent"] = (AuditEvent.objects.filter(brand=brand)
                                 .filter(Q(object_type__startswith="catalog.") | Q(action="config_apply"))
                                 .order_by("-at", "-id")[:RECENT])
        return context
