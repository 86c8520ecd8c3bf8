"""Paging for every list endpoint, the TM Forum way: `?offset=&limit=` in, a plain JSON array out,
and the counts in headers (`X-Total-Count`: all matches, `X-Result-Count`: in this page).

A list handler takes the paging parameters and the temporal response, and returns `page(...)`:

    @router.get("", response=list[ThingOut])
    def list_things(request, response: HttpResponse, paging: Query[Paging]):
        things = Thing.objects.for_user(principal(request)).order_by("code")
        return page(things, paging, response)

Order the queryset on something unique, or pages may overlap.
"""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Field, Schema

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
MAX_OFFSET = 2**53 - 1  # the largest whole number every JSON client reads exactly; PostgreSQL takes it


class Paging(Schema):
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Index of the first item to return")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Items to return (at most {MAX_LIMIT})")


def page(queryset, paging: Paging, response: HttpResponse) -> list:
    """The requested slice of `queryset`, with the count headers set on `response`."""
    total = len(queryset) if isinstance(queryset, list | tuple) else queryset.count()
    items = list(queryset[paging.offset : paging.offset + paging.limit])
    response["X-Total-Count"] = str(total)
    response["X-Result-Count"] = str(len(items))
    return items
