"""Rating's provider for the GUI's global search box: usage files by a part of their name
(registered in RatingConfig.ready). Failed records and rated usage are not searched here: they
are large tables without a name index; their screens have filters."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from telora.core import clock
from telora.rating.models import UsageFile
from telora.ui.search import MAX_RESULTS_PER_PROVIDER, SearchResult, register_search_provider

MIN_LENGTH = 3


def search_files(user, brand, query):
    if brand is None or len(query) < MIN_LENGTH:
        return
    files = (UsageFile.objects.for_user(user).filter(brand=brand, name__icontains=query)
             .order_by("-created_at", "-id")[:MAX_RESULTS_PER_PROVIDER])
    for usage_file in files:
        yield SearchResult(label=usage_file.name,
                           detail=f"{usage_file.source} · {usage_file.status} · "
                                  f"{clock.localtime(usage_file.created_at, brand):%Y-%m-%d}",
                           url=reverse("rating:file_detail", args=[usage_file.pk]), kind=_("Usage files"),
                           icon="files")


def register() -> None:
    register_search_provider(search_files, order=300)
