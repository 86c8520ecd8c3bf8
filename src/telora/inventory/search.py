"""The inventory's provider for the GUI's global search box: SIM cards by ICCID or IMSI, numbers
in stock by their digits (registered in InventoryConfig.ready)."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from telora.inventory.selectors import numbers_for_user, sims_for_user
from telora.ui.search import MAX_RESULTS_PER_PROVIDER, SearchResult, register_search_provider

MIN_DIGITS = 5


def search_inventory(user, brand, query):
    digits = "".join(ch for ch in query if ch.isdigit())
    if brand is None or len(digits) < MIN_DIGITS or len(digits) < len(query.replace(" ", "").lstrip("+")) - 2:
        return
    sims = (sims_for_user(user).filter(brand=brand).filter(Q(iccid__contains=digits) | Q(imsi__contains=digits))
            .order_by("iccid")[:MAX_RESULTS_PER_PROVIDER])
    for sim in sims:
        yield SearchResult(label=sim.iccid, detail=f"{sim.get_status_display()} · {sim.sim_type or '—'}",
                           url=reverse("inventory:sim_detail", args=[sim.pk]), kind=_("SIM cards"), icon="device-sim")
    numbers = (numbers_for_user(user).filter(brand=brand).filter(number__contains=digits.lstrip("0") or digits)
               .order_by("number")[:MAX_RESULTS_PER_PROVIDER])
    for number in numbers:
        yield SearchResult(label=number.display, detail=number.get_status_display(),
                           url=reverse("inventory:number_detail", args=[number.pk]), kind=_("Numbers in stock"),
                           icon="phone")


def register() -> None:
    register_search_provider(search_inventory, order=150)
